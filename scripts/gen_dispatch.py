"""Write fastnn/_dispatch.py from the activation, loss and optimizer tables.

    python scripts/gen_dispatch.py          # after changing a table (tests/test_codegen.py says when)
    python scripts/gen_dispatch.py --check  # exit 1 if the committed file is stale

The tables are imported without running fastnn/__init__.py, which imports the committed
_dispatch.py: a stale one (say, importing a function a table renamed) cannot stop its own
regeneration.
"""
import argparse
import os
import sys
import types

FASTNN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fastnn")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when stale")
    args = parser.parse_args(argv)
    package = types.ModuleType("fastnn")  # the package without its __init__
    package.__path__ = [FASTNN]
    sys.modules["fastnn"] = package
    from fastnn import _codegen

    path = os.path.join(FASTNN, "_dispatch.py")
    new = _codegen.dispatch_source()
    with open(path, encoding="utf-8") as f:
        old = f.read()
    if args.check:
        print(f"{path} is {'up to date' if old == new else 'stale: run python scripts/gen_dispatch.py'}")
        return 0 if old == new else 1
    if old != new:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
    print(f"{path}: {'written' if old != new else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
