
"
"
"
T
h
e
 
f
i
t
 
l
o
o
p
:
 
`
`
N
e
t
w
o
r
k
.
f
i
t
`
`
 
d
e
l
e
g
a
t
e
s
 
h
e
r
e
.




O
n
e
 
f
u
n
c
t
i
o
n
 
p
e
r
 
c
o
n
c
e
r
n
,
 
i
n
 
t
h
e
 
o
r
d
e
r
 
a
 
f
i
t
 
r
u
n
s
 
t
h
e
m
:




*
 
`
`
f
i
t
`
`
:
 
c
h
e
c
k
s
 
t
h
e
 
a
r
g
u
m
e
n
t
s
 
a
n
d
 
d
a
t
a
,
 
t
a
k
e
s
 
θ
 
(
`
`
_
g
u
a
r
d
`
`
)
,
 
a
n
d
 
r
u
n
s
 
t
h
e
 
e
p
o
c
h
s
 
o
n
 
t
h
e


 
 
k
e
r
n
e
l
 
t
h
e
 
e
n
g
i
n
e
 
c
h
o
s
e
 
(
`
`
_
e
n
g
i
n
e
.
T
r
a
i
n
e
r
`
`
)
;


*
 
`
`
_
s
p
l
i
t
_
v
a
l
i
d
a
t
i
o
n
`
`
,
 
`
`
_
m
e
t
r
i
c
s
`
`
,
 
`
`
_
o
p
t
i
m
i
z
e
r
`
`
:
 
w
h
a
t
 
f
i
t
 
t
r
a
i
n
s
 
o
n
 
a
n
d
 
r
e
p
o
r
t
s
;


*
 
`
`
_
L
o
o
p
.
e
p
o
c
h
`
`
:
 
o
n
e
 
e
p
o
c
h
:
 
t
h
e
 
s
h
u
f
f
l
e
 
(
`
`
_
s
h
u
f
f
l
e
`
`
)
,
 
r
u
n
s
 
o
f
 
w
h
o
l
e
 
b
a
t
c
h
e
s
 
o
f
 
a
b
o
u
t


 
 
`
`
R
U
N
_
S
E
C
O
N
D
S
`
`
 
w
i
t
h
 
C
t
r
l
-
C
 
b
e
t
w
e
e
n
 
t
h
e
m
 
(
`
`
_
r
u
n
_
b
a
t
c
h
e
s
`
`
)
,
 
t
h
e
 
d
i
v
e
r
g
e
n
c
e
 
c
h
e
c
k
 
a
n
d


 
 
r
o
l
l
b
a
c
k
 
(
`
`
_
c
h
e
c
k
_
f
i
n
i
t
e
`
`
)
,
 
t
h
e
n
 
t
h
e
 
l
o
g
s
,
 
c
a
l
l
b
a
c
k
s
 
a
n
d
 
s
n
a
p
s
h
o
t
 
(
`
`
_
e
n
d
_
e
p
o
c
h
`
`
)
.




E
v
e
r
y
 
k
e
r
n
e
l
 
c
a
l
l
 
g
o
e
s
 
t
h
r
o
u
g
h
 
t
h
e
 
e
n
g
i
n
e
;
 
t
h
i
s
 
m
o
d
u
l
e
 
n
e
v
e
r
 
s
e
e
s
 
a
 
k
e
r
n
e
l
.


"
"
"


f
r
o
m
 
_
_
f
u
t
u
r
e
_
_
 
i
m
p
o
r
t
 
a
n
n
o
t
a
t
i
o
n
s




i
m
p
o
r
t
 
m
a
t
h


i
m
p
o
r
t
 
t
i
m
e


f
r
o
m
 
d
a
t
a
c
l
a
s
s
e
s
 
i
m
p
o
r
t
 
d
a
t
a
c
l
a
s
s


f
r
o
m
 
t
y
p
i
n
g
 
i
m
p
o
r
t
 
A
n
y
,
 
C
a
l
l
a
b
l
e
,
 
P
r
o
t
o
c
o
l




i
m
p
o
r
t
 
n
u
m
p
y
 
a
s
 
n
p




f
r
o
m
 
.
 
i
m
p
o
r
t
 
_
v
a
l
i
d
a
t
e


f
r
o
m
 
.
 
i
m
p
o
r
t
 
l
o
s
s
e
s
 
a
s
 
_
l
o
s
s
e
s


f
r
o
m
 
.
 
i
m
p
o
r
t
 
o
p
t
i
m
i
z
e
r
s
 
a
s
 
_
o
p
t


f
r
o
m
 
.
_
e
n
g
i
n
e
 
i
m
p
o
r
t
 
F
U
S
E
D
,
 
E
n
g
i
n
e
,
 
T
r
a
i
n
e
r
,
 
a
l
l
_
f
i
n
i
t
e


f
r
o
m
 
.
_
g
u
a
r
d
 
i
m
p
o
r
t
 
G
u
a
r
d
e
d
T
h
e
t
a


f
r
o
m
 
.
c
a
l
l
b
a
c
k
s
 
i
m
p
o
r
t
 
C
a
l
l
b
a
c
k
,
 
H
i
s
t
o
r
y
,
 
d
e
f
e
r
r
e
d
_
i
n
t
e
r
r
u
p
t
,
 
p
r
e
p
a
r
e
 
a
s
 
_
p
r
e
p
a
r
e
_
c
a
l
l
b
a
c
k
s






c
l
a
s
s
 
N
e
t
w
o
r
k
(
P
r
o
t
o
c
o
l
)
:


 
 
 
 
"
"
"
W
h
a
t
 
t
h
e
 
f
i
t
 
l
o
o
p
 
r
e
a
d
s
 
a
n
d
 
s
e
t
s
 
o
n
 
t
h
e
 
n
e
t
w
o
r
k
 
i
t
 
t
r
a
i
n
s
 
(
`
`
f
a
s
t
n
n
.
N
e
t
w
o
r
k
`
`
)
;
 
t
h
e


 
 
 
 
n
e
t
w
o
r
k
 
i
t
s
e
l
f
 
h
a
n
d
s
 
o
v
e
r
 
θ
,
 
i
t
s
 
e
n
g
i
n
e
 
a
n
d
 
i
t
s
 
g
e
n
e
r
a
t
o
r
.
"
"
"




 
 
 
 
s
i
z
e
s
:
 
l
i
s
t
[
i
n
t
]


 
 
 
 
d
t
y
p
e
:
 
n
p
.
d
t
y
p
e


 
 
 
 
l
o
s
s
_
n
a
m
e
:
 
s
t
r


 
 
 
 
o
p
t
i
m
i
z
e
r
:
 
_
o
p
t
.
O
p
t
i
m
i
z
e
r
 
|
 
N
o
n
e


 
 
 
 
f
e
a
t
u
r
e
_
n
a
m
e
s
_
i
n
_
:
 
n
p
.
n
d
a
r
r
a
y
 
|
 
N
o
n
e




 
 
 
 
@
p
r
o
p
e
r
t
y


 
 
 
 
d
e
f
 
n
_
p
a
r
a
m
s
(
s
e
l
f
)
 
-
>
 
i
n
t
:
 
.
.
.




R
U
N
_
S
E
C
O
N
D
S
 
=
 
0
.
0
5
 
 
#
 
f
i
t
 
r
e
t
u
r
n
s
 
t
o
 
P
y
t
h
o
n
 
a
b
o
u
t
 
t
h
i
s
 
o
f
t
e
n
 
(
C
t
r
l
-
C
,
 
p
r
o
g
r
e
s
s
)
,
 
b
e
t
w
e
e
n
 
b
a
t
c
h
e
s


L
O
N
G
_
E
P
O
C
H
_
S
E
C
O
N
D
S
 
=
 
2
.
0
 
 
#
 
v
e
r
b
o
s
e
 
f
i
t
 
s
h
o
w
s
 
a
 
p
e
r
-
b
a
t
c
h
 
b
a
r
 
f
o
r
 
e
p
o
c
h
s
 
l
o
n
g
e
r
 
t
h
a
n
 
t
h
i
s






c
l
a
s
s
 
D
i
v
e
r
g
e
d
E
r
r
o
r
(
F
l
o
a
t
i
n
g
P
o
i
n
t
E
r
r
o
r
)
:


 
 
 
 
"
"
"
T
r
a
i
n
i
n
g
 
p
r
o
d
u
c
e
d
 
a
 
n
o
n
-
f
i
n
i
t
e
 
l
o
s
s
 
o
r
 
w
e
i
g
h
t
s
;
 
t
h
e
 
w
e
i
g
h
t
s
 
w
e
r
e
 
r
o
l
l
e
d
 
b
a
c
k
.




 
 
 
 
A
t
t
r
i
b
u
t
e
s


 
 
 
 
-
-
-
-
-
-
-
-
-
-


 
 
 
 
e
p
o
c
h
 
:
 
i
n
t
 
o
r
 
N
o
n
e


 
 
 
 
 
 
 
 
T
h
e
 
1
-
b
a
s
e
d
 
e
p
o
c
h
 
(
o
f
 
t
h
a
t
 
f
i
t
)
 
t
h
a
t
 
d
i
v
e
r
g
e
d
.


 
 
 
 
l
o
s
s
 
:
 
f
l
o
a
t
 
o
r
 
N
o
n
e


 
 
 
 
 
 
 
 
I
t
s
 
l
o
s
s
.


 
 
 
 
"
"
"




 
 
 
 
d
e
f
 
_
_
i
n
i
t
_
_
(
s
e
l
f
,
 
m
e
s
s
a
g
e
:
 
s
t
r
,
 
e
p
o
c
h
:
 
i
n
t
 
|
 
N
o
n
e
 
=
 
N
o
n
e
,
 
l
o
s
s
:
 
f
l
o
a
t
 
|
 
N
o
n
e
 
=
 
N
o
n
e
)
 
-
>
 
N
o
n
e
:


 
 
 
 
 
 
 
 
s
u
p
e
r
(
)
.
_
_
i
n
i
t
_
_
(
m
e
s
s
a
g
e
)


 
 
 
 
 
 
 
 
s
e
l
f
.
e
p
o
c
h
,
 
s
e
l
f
.
l
o
s
s
 
=
 
e
p
o
c
h
,
 
l
o
s
s






d
e
f
 
_
l
a
b
e
l
_
a
c
c
u
r
a
c
y
(
Y
:
 
n
p
.
n
d
a
r
r
a
y
,
 
P
:
 
n
p
.
n
d
a
r
r
a
y
)
 
-
>
 
f
l
o
a
t
:


 
 
 
 
"
"
"
T
h
e
 
s
h
a
r
e
 
o
f
 
r
o
w
s
 
w
h
o
s
e
 
e
v
e
r
y
 
0
/
1
 
l
a
b
e
l
 
i
s
 
r
i
g
h
t
,
 
P
 
t
h
r
e
s
h
o
l
d
e
d
 
a
t
 
0
.
5
:
 
o
n
e
 
o
u
t
p
u
t
,
 
o
r


 
 
 
 
b
i
n
a
r
y
_
c
r
o
s
s
_
e
n
t
r
o
p
y
'
s
 
m
u
l
t
i
-
l
a
b
e
l
 
r
o
w
s
 
(
s
c
i
k
i
t
-
l
e
a
r
n
'
s
 
s
u
b
s
e
t
 
a
c
c
u
r
a
c
y
)
.
"
"
"


 
 
 
 
r
e
t
u
r
n
 
f
l
o
a
t
(
n
p
.
m
e
a
n
(
(
(
Y
 
>
 
0
.
5
)
 
=
=
 
(
P
 
>
 
0
.
5
)
)
.
a
l
l
(
a
x
i
s
=
1
)
)
)






M
E
T
R
I
C
S
:
 
d
i
c
t
[
s
t
r
,
 
C
a
l
l
a
b
l
e
[
[
n
p
.
n
d
a
r
r
a
y
,
 
n
p
.
n
d
a
r
r
a
y
]
,
 
f
l
o
a
t
]
]
 
=
 
{


 
 
 
 
#
 
n
a
m
e
 
→
 
f
(
y
_
t
r
u
e
,
 
y
_
p
r
e
d
)
 
o
n
 
v
a
l
i
d
a
t
i
o
n
 
r
o
w
s
;
 
y
_
p
r
e
d
 
a
s
 
p
r
e
d
i
c
t
 
r
e
t
u
r
n
s
 
i
t


 
 
 
 
"
a
c
c
u
r
a
c
y
"
:
 
l
a
m
b
d
a
 
Y
,
 
P
:
 
f
l
o
a
t
(
n
p
.
m
e
a
n
(
n
p
.
a
r
g
m
a
x
(
Y
,
 
1
)
 
=
=
 
n
p
.
a
r
g
m
a
x
(
P
,
 
1
)
)
)
 
i
f
 
Y
.
s
h
a
p
e
[
1
]
 
>
 
1


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
e
l
s
e
 
_
l
a
b
e
l
_
a
c
c
u
r
a
c
y
(
Y
,
 
P
)
,


 
 
 
 
"
m
a
e
"
:
 
l
a
m
b
d
a
 
Y
,
 
P
:
 
f
l
o
a
t
(
n
p
.
m
e
a
n
(
n
p
.
a
b
s
(
Y
 
-
 
P
)
)
)
,


 
 
 
 
"
m
s
e
"
:
 
l
a
m
b
d
a
 
Y
,
 
P
:
 
f
l
o
a
t
(
n
p
.
m
e
a
n
(
(
Y
 
-
 
P
)
 
*
*
 
2
)
)
,


 
 
 
 
"
r
2
"
:
 
l
a
m
b
d
a
 
Y
,
 
P
:
 
f
l
o
a
t
(
n
p
.
m
e
a
n
(
1
 
-
 
(
(
Y
 
-
 
P
)
 
*
*
 
2
)
.
s
u
m
(
0
)
 
/
 
n
p
.
m
a
x
i
m
u
m
(
(
(
Y
 
-
 
Y
.
m
e
a
n
(
0
)
)
 
*
*
 
2
)
.
s
u
m
(
0
)
,
 
1
e
-
3
0
0
)
)
)
,


}






@
d
a
t
a
c
l
a
s
s


c
l
a
s
s
 
_
D
a
t
a
:


 
 
 
 
"
"
"
O
n
e
 
f
i
t
'
s
 
c
h
e
c
k
e
d
 
r
o
w
s
 
a
n
d
 
w
h
a
t
 
i
s
 
r
e
p
o
r
t
e
d
 
o
n
 
t
h
e
m
.
"
"
"




 
 
 
 
X
:
 
n
p
.
n
d
a
r
r
a
y


 
 
 
 
Y
:
 
n
p
.
n
d
a
r
r
a
y


 
 
 
 
s
w
:
 
n
p
.
n
d
a
r
r
a
y
 
 
#
 
s
a
m
p
l
e
 
w
e
i
g
h
t
s
,
 
o
r
 
e
m
p
t
y


 
 
 
 
v
a
l
:
 
t
u
p
l
e
 
|
 
N
o
n
e
 
 
#
 
(
X
v
,
 
Y
v
,
 
w
v
)
,
 
o
r
 
N
o
n
e


 
 
 
 
m
e
t
r
i
c
s
:
 
l
i
s
t


 
 
 
 
c
a
l
l
b
a
c
k
s
:
 
l
i
s
t






d
e
f
 
f
i
t
(
n
e
t
:
 
N
e
t
w
o
r
k
,
 
t
h
e
t
a
:
 
G
u
a
r
d
e
d
T
h
e
t
a
,
 
e
n
g
i
n
e
:
 
E
n
g
i
n
e
,
 
r
n
g
:
 
n
p
.
r
a
n
d
o
m
.
G
e
n
e
r
a
t
o
r
,
 
X
:
 
A
n
y
,
 
Y
:
 
A
n
y
,
 
*
,


 
 
 
 
 
 
 
 
e
p
o
c
h
s
:
 
i
n
t
 
=
 
1
0
,
 
b
a
t
c
h
_
s
i
z
e
:
 
i
n
t
 
=
 
3
2
,
 
l
r
:
 
f
l
o
a
t
 
|
 
N
o
n
e
 
=
 
N
o
n
e
,
 
s
h
u
f
f
l
e
:
 
b
o
o
l
 
=
 
T
r
u
e
,


 
 
 
 
 
 
 
 
s
e
e
d
:
 
A
n
y
 
=
 
N
o
n
e
,
 
v
e
r
b
o
s
e
:
 
b
o
o
l
 
=
 
F
a
l
s
e
,
 
t
h
r
e
a
d
s
:
 
i
n
t
 
|
 
N
o
n
e
 
=
 
N
o
n
e
,
 
o
p
t
i
m
i
z
e
r
:
 
A
n
y
 
=
 
N
o
n
e
,


 
 
 
 
 
 
 
 
s
a
m
p
l
e
_
w
e
i
g
h
t
:
 
A
n
y
 
=
 
N
o
n
e
,
 
v
a
l
i
d
a
t
i
o
n
_
d
a
t
a
:
 
A
n
y
 
=
 
N
o
n
e
,
 
v
a
l
i
d
a
t
i
o
n
_
s
p
l
i
t
:
 
f
l
o
a
t
 
=
 
0
.
0
,


 
 
 
 
 
 
 
 
e
a
r
l
y
_
s
t
o
p
p
i
n
g
:
 
A
n
y
 
=
 
N
o
n
e
,
 
c
a
l
l
b
a
c
k
s
:
 
A
n
y
 
=
 
N
o
n
e
,
 
m
e
t
r
i
c
s
:
 
A
n
y
 
=
 
N
o
n
e
)
 
-
>
 
H
i
s
t
o
r
y
:


 
 
 
 
"
"
"
`
`
N
e
t
w
o
r
k
.
f
i
t
`
`
 
(
s
e
e
 
t
h
e
r
e
)
;
 
θ
,
 
t
h
e
 
e
n
g
i
n
e
 
a
n
d
 
t
h
e
 
g
e
n
e
r
a
t
o
r
 
a
r
e
 
t
h
e
 
n
e
t
w
o
r
k
'
s
 
o
w
n
.
"
"
"


 
 
 
 
i
f
 
t
y
p
e
(
e
p
o
c
h
s
)
 
i
s
 
n
o
t
 
i
n
t
 
o
r
 
e
p
o
c
h
s
 
<
=
 
0
:
 
 
#
 
(
t
h
e
 
c
o
m
m
o
n
 
c
a
s
e
 
c
h
e
c
k
e
d
 
f
i
r
s
t
:
 
s
h
o
r
t
 
c
a
l
l
s
)


 
 
 
 
 
 
 
 
e
p
o
c
h
s
 
=
 
_
v
a
l
i
d
a
t
e
.
p
o
s
i
t
i
v
e
_
i
n
t
(
"
e
p
o
c
h
s
"
,
 
e
p
o
c
h
s
)


 
 
 
 
i
f
 
t
y
p
e
(
b
a
t
c
h
_
s
i
z
e
)
 
i
s
 
n
o
t
 
i
n
t
 
o
r
 
b
a
t
c
h
_
s
i
z
e
 
<
=
 
0
:


 
 
 
 
 
 
 
 
b
a
t
c
h
_
s
i
z
e
 
=
 
_
v
a
l
i
d
a
t
e
.
p
o
s
i
t
i
v
e
_
i
n
t
(
"
b
a
t
c
h
_
s
i
z
e
"
,
 
b
a
t
c
h
_
s
i
z
e
)


 
 
 
 
l
r
 
=
 
_
v
a
l
i
d
a
t
e
.
l
e
a
r
n
i
n
g
_
r
a
t
e
(
l
r
)


 
 
 
 
i
f
 
t
h
r
e
a
d
s
 
i
s
 
n
o
t
 
N
o
n
e
:


 
 
 
 
 
 
 
 
t
h
r
e
a
d
s
 
=
 
_
v
a
l
i
d
a
t
e
.
p
o
s
i
t
i
v
e
_
i
n
t
(
"
t
h
r
e
a
d
s
"
,
 
t
h
r
e
a
d
s
)


 
 
 
 
o
p
t
 
=
 
_
o
p
t
i
m
i
z
e
r
(
n
e
t
,
 
o
p
t
i
m
i
z
e
r
,
 
l
r
)


 
 
 
 
n
a
m
e
s
 
=
 
_
v
a
l
i
d
a
t
e
.
f
e
a
t
u
r
e
_
n
a
m
e
s
(
X
)


 
 
 
 
X
,
 
Y
 
=
 
c
h
e
c
k
_
x
y
(
n
e
t
,
 
X
,
 
Y
)


 
 
 
 
s
w
 
=
 
_
v
a
l
i
d
a
t
e
.
s
a
m
p
l
e
_
w
e
i
g
h
t
(
s
a
m
p
l
e
_
w
e
i
g
h
t
,
 
l
e
n
(
X
)
,
 
n
e
t
.
d
t
y
p
e
)


 
 
 
 
v
a
l
,
 
c
b
s
 
=
 
N
o
n
e
,
 
[
]


 
 
 
 
i
f
 
v
a
l
i
d
a
t
i
o
n
_
d
a
t
a
 
i
s
 
n
o
t
 
N
o
n
e
 
o
r
 
n
o
t
 
(
t
y
p
e
(
v
a
l
i
d
a
t
i
o
n
_
s
p
l
i
t
)
 
i
s
 
f
l
o
a
t
 
a
n
d
 
v
a
l
i
d
a
t
i
o
n
_
s
p
l
i
t
 
=
=
 
0
)
:


 
 
 
 
 
 
 
 
X
,
 
Y
,
 
s
w
,
 
v
a
l
 
=
 
_
s
p
l
i
t
_
v
a
l
i
d
a
t
i
o
n
(
n
e
t
,
 
X
,
 
Y
,
 
s
w
,
 
v
a
l
i
d
a
t
i
o
n
_
d
a
t
a
,
 
v
a
l
i
d
a
t
i
o
n
_
s
p
l
i
t
,
 
n
a
m
e
s
)


 
 
 
 
i
f
 
c
a
l
l
b
a
c
k
s
 
i
s
 
n
o
t
 
N
o
n
e
 
o
r
 
e
a
r
l
y
_
s
t
o
p
p
i
n
g
 
i
s
 
n
o
t
 
N
o
n
e
:


 
 
 
 
 
 
 
 
c
b
s
 
=
 
_
p
r
e
p
a
r
e
_
c
a
l
l
b
a
c
k
s
(
c
a
l
l
b
a
c
k
s
,
 
e
a
r
l
y
_
s
t
o
p
p
i
n
g
)


 
 
 
 
m
s
 
=
 
_
m
e
t
r
i
c
s
(
n
e
t
,
 
m
e
t
r
i
c
s
,
 
v
a
l
 
i
s
 
n
o
t
 
N
o
n
e
)


 
 
 
 
f
o
r
 
c
b
 
i
n
 
c
b
s
:
 
 
#
 
a
 
m
o
n
i
t
o
r
 
t
h
a
t
 
n
o
 
l
o
g
 
w
i
l
l
 
h
o
l
d
 
i
s
 
r
e
f
u
s
e
d
 
b
e
f
o
r
e
 
a
n
y
 
t
r
a
i
n
i
n
g


 
 
 
 
 
 
 
 
c
h
e
c
k
 
=
 
g
e
t
a
t
t
r
(
c
b
,
 
"
c
h
e
c
k
_
m
o
n
i
t
o
r
"
,
 
N
o
n
e
)


 
 
 
 
 
 
 
 
i
f
 
c
h
e
c
k
 
i
s
 
n
o
t
 
N
o
n
e
:


 
 
 
 
 
 
 
 
 
 
 
 
c
h
e
c
k
(
{
"
l
o
s
s
"
,
 
"
t
i
m
e
"
,
 
"
l
r
"
}
 
|
 
(
{
"
v
a
l
_
l
o
s
s
"
,
 
*
(
k
 
f
o
r
 
k
,
 
_
 
i
n
 
m
s
)
}
 
i
f
 
v
a
l
 
e
l
s
e
 
s
e
t
(
)
)
)


 
 
 
 
b
a
t
c
h
 
=
 
m
i
n
(
b
a
t
c
h
_
s
i
z
e
,
 
l
e
n
(
X
)
)


 
 
 
 
t
r
a
i
n
e
r
 
=
 
e
n
g
i
n
e
.
t
r
a
i
n
e
r
(
o
p
t
,
 
b
a
t
c
h
,
 
t
h
r
e
a
d
s
,
 
w
e
i
g
h
t
e
d
=
b
o
o
l
(
s
w
.
s
i
z
e
)
)


 
 
 
 
d
a
t
a
 
=
 
_
D
a
t
a
(
X
,
 
Y
,
 
s
w
,
 
v
a
l
,
 
m
s
,
 
c
b
s
)


 
 
 
 
t
h
e
t
a
.
c
l
a
i
m
(
)


 
 
 
 
t
r
y
:


 
 
 
 
 
 
 
 
t
h
e
t
a
.
o
w
n
(
)


 
 
 
 
 
 
 
 
i
f
 
l
r
 
i
s
 
n
o
t
 
N
o
n
e
:


 
 
 
 
 
 
 
 
 
 
 
 
o
p
t
.
l
r
 
=
 
f
l
o
a
t
(
l
r
)


 
 
 
 
 
 
 
 
n
e
t
.
o
p
t
i
m
i
z
e
r
 
=
 
o
p
t


 
 
 
 
 
 
 
 
i
f
 
n
a
m
e
s
 
i
s
 
n
o
t
 
N
o
n
e
:


 
 
 
 
 
 
 
 
 
 
 
 
n
e
t
.
f
e
a
t
u
r
e
_
n
a
m
e
s
_
i
n
_
 
=
 
n
a
m
e
s


 
 
 
 
 
 
 
 
l
o
o
p
 
=
 
_
L
o
o
p
(
n
e
t
,
 
t
h
e
t
a
,
 
e
n
g
i
n
e
,
 
d
a
t
a
,
 
o
p
t
,
 
s
h
u
f
f
l
e
 
a
n
d
 
l
e
n
(
X
)
 
>
 
1
,


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
r
n
g
 
i
f
 
s
e
e
d
 
i
s
 
N
o
n
e
 
e
l
s
e
 
n
p
.
r
a
n
d
o
m
.
d
e
f
a
u
l
t
_
r
n
g
(
s
e
e
d
)
)


 
 
 
 
 
 
 
 
w
i
t
h
 
t
r
a
i
n
e
r
:


 
 
 
 
 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
l
o
o
p
.
e
p
o
c
h
s
(
t
r
a
i
n
e
r
,
 
e
p
o
c
h
s
,
 
v
e
r
b
o
s
e
)


 
 
 
 
f
i
n
a
l
l
y
:


 
 
 
 
 
 
 
 
t
h
e
t
a
.
r
e
l
e
a
s
e
(
)






d
e
f
 
c
h
e
c
k
_
x
y
(
n
e
t
:
 
N
e
t
w
o
r
k
,
 
X
:
 
A
n
y
,
 
Y
:
 
A
n
y
,
 
n
a
m
e
:
 
s
t
r
 
=
 
"
X
"
,
 
n
a
m
e
s
:
 
b
o
o
l
 
=
 
T
r
u
e
)
 
-
>
 
t
u
p
l
e
[
n
p
.
n
d
a
r
r
a
y
,
 
n
p
.
n
d
a
r
r
a
y
]
:


 
 
 
 
"
"
"
X
 
a
n
d
 
Y
 
c
h
e
c
k
e
d
 
a
g
a
i
n
s
t
 
`
`
n
e
t
`
`
 
(
w
i
d
t
h
s
,
 
d
t
y
p
e
,
 
i
t
s
 
l
o
s
s
'
s
 
t
a
r
g
e
t
s
,
 
t
h
e
 
f
e
a
t
u
r
e
 
n
a
m
e
s


 
 
 
 
i
t
s
 
f
i
t
 
r
e
c
o
r
d
e
d
 
u
n
l
e
s
s
 
`
`
n
a
m
e
s
`
`
 
i
s
 
F
a
l
s
e
)
 
a
n
d
 
i
n
 
t
h
e
 
k
e
r
n
e
l
s
'
 
f
o
r
m
.
"
"
"


 
 
 
 
i
f
 
n
a
m
e
s
:


 
 
 
 
 
 
 
 
_
v
a
l
i
d
a
t
e
.
c
h
e
c
k
_
n
a
m
e
s
(
X
,
 
n
e
t
.
f
e
a
t
u
r
e
_
n
a
m
e
s
_
i
n
_
,
 
n
a
m
e
)


 
 
 
 
X
 
=
 
_
v
a
l
i
d
a
t
e
.
c
h
e
c
k
_
X
(
X
,
 
n
e
t
.
s
i
z
e
s
[
0
]
,
 
n
e
t
.
d
t
y
p
e
,
 
n
a
m
e
)


 
 
 
 
r
e
t
u
r
n
 
X
,
 
_
v
a
l
i
d
a
t
e
.
c
h
e
c
k
_
Y
(
Y
,
 
l
e
n
(
X
)
,
 
n
e
t
.
s
i
z
e
s
[
-
1
]
,
 
n
e
t
.
d
t
y
p
e
,
 
_
l
o
s
s
e
s
.
g
e
t
(
n
e
t
.
l
o
s
s
_
n
a
m
e
)
,
 
n
a
m
e
)






d
e
f
 
_
o
p
t
i
m
i
z
e
r
(
n
e
t
:
 
N
e
t
w
o
r
k
,
 
s
p
e
c
:
 
A
n
y
,
 
l
r
:
 
f
l
o
a
t
 
|
 
N
o
n
e
)
 
-
>
 
_
o
p
t
.
O
p
t
i
m
i
z
e
r
:


 
 
 
 
"
"
"
f
i
t
'
s
 
o
p
t
i
m
i
z
e
r
:
 
`
`
n
e
t
.
o
p
t
i
m
i
z
e
r
`
`
 
c
o
n
t
i
n
u
e
d
,
 
o
r
 
a
 
n
e
w
 
o
n
e
 
f
r
o
m
 
a
 
n
a
m
e
 
o
r
 
o
b
j
e
c
t
.
"
"
"


 
 
 
 
c
u
r
r
e
n
t
 
=
 
n
e
t
.
o
p
t
i
m
i
z
e
r


 
 
 
 
i
f
 
s
p
e
c
 
i
s
 
N
o
n
e
:


 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
c
u
r
r
e
n
t
 
i
f
 
c
u
r
r
e
n
t
 
i
s
 
n
o
t
 
N
o
n
e
 
e
l
s
e
 
_
o
p
t
.
S
G
D
(
l
r
=
0
.
0
1
 
i
f
 
l
r
 
i
s
 
N
o
n
e
 
e
l
s
e
 
l
r
)


 
 
 
 
i
f
 
i
s
i
n
s
t
a
n
c
e
(
s
p
e
c
,
 
s
t
r
)
 
a
n
d
 
c
u
r
r
e
n
t
 
i
s
 
n
o
t
 
N
o
n
e
 
a
n
d
 
c
u
r
r
e
n
t
.
n
a
m
e
 
=
=
 
s
p
e
c
.
l
o
w
e
r
(
)
:


 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
c
u
r
r
e
n
t


 
 
 
 
n
e
w
 
=
 
_
o
p
t
.
g
e
t
(
s
p
e
c
,
 
l
r
)


 
 
 
 
n
e
w
.
b
i
n
d
(
n
e
t
.
n
_
p
a
r
a
m
s
,
 
n
e
t
.
d
t
y
p
e
)
 
 
#
 
a
 
m
i
s
m
a
t
c
h
e
d
 
o
b
j
e
c
t
 
i
s
 
r
e
f
u
s
e
d
 
b
e
f
o
r
e
 
a
n
y
 
w
o
r
k


 
 
 
 
r
e
t
u
r
n
 
n
e
w






d
e
f
 
_
s
p
l
i
t
_
v
a
l
i
d
a
t
i
o
n
(
n
e
t
:
 
N
e
t
w
o
r
k
,
 
X
:
 
n
p
.
n
d
a
r
r
a
y
,
 
Y
:
 
n
p
.
n
d
a
r
r
a
y
,
 
s
w
:
 
n
p
.
n
d
a
r
r
a
y
,
 
d
a
t
a
:
 
A
n
y
,
 
s
p
l
i
t
:
 
A
n
y
,


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
n
a
m
e
s
:
 
n
p
.
n
d
a
r
r
a
y
 
|
 
N
o
n
e
)
 
-
>
 
t
u
p
l
e
:


 
 
 
 
"
"
"
(
X
,
 
Y
,
 
s
w
)
 
t
o
 
t
r
a
i
n
 
o
n
 
a
n
d
 
t
h
e
 
c
h
e
c
k
e
d
 
v
a
l
i
d
a
t
i
o
n
 
(
X
v
,
 
Y
v
,
 
w
v
)
,
 
o
r
 
N
o
n
e
.


 
 
 
 
`
`
n
a
m
e
s
`
`
:
 
X
'
s
 
f
e
a
t
u
r
e
 
n
a
m
e
s
,
 
w
h
i
c
h
 
a
 
v
a
l
i
d
a
t
i
o
n
 
D
a
t
a
F
r
a
m
e
'
s
 
c
o
l
u
m
n
s
 
m
u
s
t
 
m
a
t
c
h
.
"
"
"


 
 
 
 
i
f
 
d
a
t
a
 
i
s
 
n
o
t
 
N
o
n
e
 
a
n
d
 
s
p
l
i
t
:


 
 
 
 
 
 
 
 
r
a
i
s
e
 
V
a
l
u
e
E
r
r
o
r
(
"
p
a
s
s
 
v
a
l
i
d
a
t
i
o
n
_
d
a
t
a
 
o
r
 
v
a
l
i
d
a
t
i
o
n
_
s
p
l
i
t
,
 
n
o
t
 
b
o
t
h
"
)


 
 
 
 
i
f
 
d
a
t
a
 
i
s
 
n
o
t
 
N
o
n
e
:


 
 
 
 
 
 
 
 
i
f
 
n
o
t
 
i
s
i
n
s
t
a
n
c
e
(
d
a
t
a
,
 
(
t
u
p
l
e
,
 
l
i
s
t
)
)
 
o
r
 
l
e
n
(
d
a
t
a
)
 
n
o
t
 
i
n
 
(
2
,
 
3
)
:


 
 
 
 
 
 
 
 
 
 
 
 
r
a
i
s
e
 
V
a
l
u
e
E
r
r
o
r
(
"
v
a
l
i
d
a
t
i
o
n
_
d
a
t
a
 
m
u
s
t
 
b
e
 
a
 
t
u
p
l
e
 
(
X
v
,
 
Y
v
)
 
o
r
 
(
X
v
,
 
Y
v
,
 
s
a
m
p
l
e
_
w
e
i
g
h
t
)
"
)


 
 
 
 
 
 
 
 
_
v
a
l
i
d
a
t
e
.
c
h
e
c
k
_
n
a
m
e
s
(
d
a
t
a
[
0
]
,
 
n
a
m
e
s
,
 
"
v
a
l
i
d
a
t
i
o
n
_
d
a
t
a
'
s
 
X
"
)


 
 
 
 
 
 
 
 
X
v
,
 
Y
v
 
=
 
c
h
e
c
k
_
x
y
(
n
e
t
,
 
d
a
t
a
[
0
]
,
 
d
a
t
a
[
1
]
,
 
"
v
a
l
i
d
a
t
i
o
n
_
d
a
t
a
'
s
 
X
"
,
 
n
a
m
e
s
=
F
a
l
s
e
)


 
 
 
 
 
 
 
 
w
v
 
=
 
_
v
a
l
i
d
a
t
e
.
s
a
m
p
l
e
_
w
e
i
g
h
t
(
d
a
t
a
[
2
]
 
i
f
 
l
e
n
(
d
a
t
a
)
 
=
=
 
3
 
e
l
s
e
 
N
o
n
e
,
 
l
e
n
(
X
v
)
,
 
n
e
t
.
d
t
y
p
e
,


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
"
v
a
l
i
d
a
t
i
o
n
_
d
a
t
a
'
s
 
s
a
m
p
l
e
_
w
e
i
g
h
t
"
)


 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
X
,
 
Y
,
 
s
w
,
 
(
X
v
,
 
Y
v
,
 
w
v
)


 
 
 
 
i
f
 
i
s
i
n
s
t
a
n
c
e
(
s
p
l
i
t
,
 
b
o
o
l
)
 
o
r
 
n
o
t
 
i
s
i
n
s
t
a
n
c
e
(
s
p
l
i
t
,
 
(
i
n
t
,
 
f
l
o
a
t
,
 
n
p
.
n
u
m
b
e
r
)
)
 
o
r
 
n
o
t
 
0
 
<
=
 
s
p
l
i
t
 
<
 
1
:


 
 
 
 
 
 
 
 
r
a
i
s
e
 
V
a
l
u
e
E
r
r
o
r
(
f
"
v
a
l
i
d
a
t
i
o
n
_
s
p
l
i
t
 
m
u
s
t
 
b
e
 
a
 
f
r
a
c
t
i
o
n
 
i
n
 
[
0
,
 
1
)
,
 
g
o
t
 
{
s
p
l
i
t
!
r
}
"
)


 
 
 
 
i
f
 
n
o
t
 
s
p
l
i
t
:


 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
X
,
 
Y
,
 
s
w
,
 
N
o
n
e


 
 
 
 
n
_
v
a
l
 
=
 
i
n
t
(
r
o
u
n
d
(
l
e
n
(
X
)
 
*
 
s
p
l
i
t
)
)


 
 
 
 
i
f
 
n
_
v
a
l
 
<
 
1
 
o
r
 
n
_
v
a
l
 
>
=
 
l
e
n
(
X
)
:


 
 
 
 
 
 
 
 
r
a
i
s
e
 
V
a
l
u
e
E
r
r
o
r
(
f
"
v
a
l
i
d
a
t
i
o
n
_
s
p
l
i
t
=
{
s
p
l
i
t
}
 
o
f
 
{
l
e
n
(
X
)
}
 
r
o
w
s
 
l
e
a
v
e
s
 
"


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
f
"
{
n
_
v
a
l
}
 
f
o
r
 
v
a
l
i
d
a
t
i
o
n
 
a
n
d
 
{
l
e
n
(
X
)
 
-
 
n
_
v
a
l
}
 
f
o
r
 
t
r
a
i
n
i
n
g
;
 
"


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
"
b
o
t
h
 
n
e
e
d
 
a
t
 
l
e
a
s
t
 
o
n
e
 
r
o
w
"
)


 
 
 
 
c
u
t
 
=
 
l
e
n
(
X
)
 
-
 
n
_
v
a
l


 
 
 
 
w
v
 
=
 
s
w
[
c
u
t
:
]
 
i
f
 
s
w
.
s
i
z
e
 
e
l
s
e
 
s
w


 
 
 
 
f
o
r
 
p
a
r
t
,
 
w
 
i
n
 
(
(
"
h
e
l
d
-
o
u
t
"
,
 
w
v
)
,
 
(
"
t
r
a
i
n
i
n
g
"
,
 
s
w
[
:
c
u
t
]
)
)
:


 
 
 
 
 
 
 
 
i
f
 
w
.
s
i
z
e
 
a
n
d
 
n
o
t
 
w
.
s
u
m
(
)
 
>
 
0
:


 
 
 
 
 
 
 
 
 
 
 
 
r
a
i
s
e
 
V
a
l
u
e
E
r
r
o
r
(
f
"
v
a
l
i
d
a
t
i
o
n
_
s
p
l
i
t
:
 
t
h
e
 
{
p
a
r
t
}
 
r
o
w
s
'
 
s
a
m
p
l
e
 
w
e
i
g
h
t
s
 
s
u
m
 
t
o
 
0
"
)


 
 
 
 
r
e
t
u
r
n
 
X
[
:
c
u
t
]
,
 
Y
[
:
c
u
t
]
,
 
s
w
[
:
c
u
t
]
 
i
f
 
s
w
.
s
i
z
e
 
e
l
s
e
 
s
w
,
 
(
X
[
c
u
t
:
]
,
 
Y
[
c
u
t
:
]
,
 
w
v
)






d
e
f
 
_
m
e
t
r
i
c
s
(
n
e
t
:
 
N
e
t
w
o
r
k
,
 
m
e
t
r
i
c
s
:
 
A
n
y
,
 
v
a
l
i
d
a
t
i
n
g
:
 
b
o
o
l
)
 
-
>
 
l
i
s
t
:


 
 
 
 
"
"
"
[
(
l
o
g
 
k
e
y
,
 
f
u
n
c
t
i
o
n
)
]
 
f
o
r
 
f
i
t
'
s
 
`
`
m
e
t
r
i
c
s
`
`
,
 
c
o
m
p
u
t
e
d
 
o
n
 
t
h
e
 
v
a
l
i
d
a
t
i
o
n
 
r
o
w
s
.
"
"
"


 
 
 
 
i
f
 
m
e
t
r
i
c
s
 
i
s
 
N
o
n
e
:


 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
[
]


 
 
 
 
i
f
 
i
s
i
n
s
t
a
n
c
e
(
m
e
t
r
i
c
s
,
 
s
t
r
)
 
o
r
 
c
a
l
l
a
b
l
e
(
m
e
t
r
i
c
s
)
:


 
 
 
 
 
 
 
 
m
e
t
r
i
c
s
 
=
 
[
m
e
t
r
i
c
s
]


 
 
 
 
i
f
 
m
e
t
r
i
c
s
 
a
n
d
 
n
o
t
 
v
a
l
i
d
a
t
i
n
g
:


 
 
 
 
 
 
 
 
r
a
i
s
e
 
V
a
l
u
e
E
r
r
o
r
(
"
m
e
t
r
i
c
s
 
a
r
e
 
c
o
m
p
u
t
e
d
 
o
n
 
v
a
l
i
d
a
t
i
o
n
 
r
o
w
s
;
 
p
a
s
s
 
v
a
l
i
d
a
t
i
o
n
_
d
a
t
a
 
o
r
 
"


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
"
v
a
l
i
d
a
t
i
o
n
_
s
p
l
i
t
 
t
o
o
"
)


 
 
 
 
o
u
t
 
=
 
[
]


 
 
 
 
f
o
r
 
m
 
i
n
 
m
e
t
r
i
c
s
:


 
 
 
 
 
 
 
 
i
f
 
i
s
i
n
s
t
a
n
c
e
(
m
,
 
s
t
r
)
 
a
n
d
 
m
 
i
n
 
M
E
T
R
I
C
S
:


 
 
 
 
 
 
 
 
 
 
 
 
m
u
l
t
i
l
a
b
e
l
 
=
 
m
 
=
=
 
"
a
c
c
u
r
a
c
y
"
 
a
n
d
 
n
e
t
.
l
o
s
s
_
n
a
m
e
 
=
=
 
"
b
i
n
a
r
y
_
c
r
o
s
s
_
e
n
t
r
o
p
y
"


 
 
 
 
 
 
 
 
 
 
 
 
o
u
t
.
a
p
p
e
n
d
(
(
f
"
v
a
l
_
{
m
}
"
,
 
_
l
a
b
e
l
_
a
c
c
u
r
a
c
y
 
i
f
 
m
u
l
t
i
l
a
b
e
l
 
e
l
s
e
 
M
E
T
R
I
C
S
[
m
]
)
)


 
 
 
 
 
 
 
 
e
l
i
f
 
c
a
l
l
a
b
l
e
(
m
)
:


 
 
 
 
 
 
 
 
 
 
 
 
o
u
t
.
a
p
p
e
n
d
(
(
f
"
v
a
l
_
{
g
e
t
a
t
t
r
(
m
,
 
'
_
_
n
a
m
e
_
_
'
,
 
'
m
e
t
r
i
c
'
)
}
"
,
 
m
)
)


 
 
 
 
 
 
 
 
e
l
s
e
:


 
 
 
 
 
 
 
 
 
 
 
 
r
a
i
s
e
 
V
a
l
u
e
E
r
r
o
r
(
f
"
m
e
t
r
i
c
s
:
 
u
n
k
n
o
w
n
 
m
e
t
r
i
c
 
{
m
!
r
}
;
 
p
a
s
s
 
n
a
m
e
s
 
f
r
o
m
 
{
s
o
r
t
e
d
(
M
E
T
R
I
C
S
)
}
 
"


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
"
o
r
 
f
u
n
c
t
i
o
n
s
 
f
(
y
_
t
r
u
e
,
 
y
_
p
r
e
d
)
 
-
>
 
f
l
o
a
t
"
)


 
 
 
 
r
e
t
u
r
n
 
o
u
t






d
e
f
 
_
i
n
t
e
r
r
u
p
t
e
d
(
h
i
s
t
o
r
y
:
 
H
i
s
t
o
r
y
,
 
b
a
t
c
h
e
s
:
 
i
n
t
,
 
w
h
e
r
e
:
 
s
t
r
)
 
-
>
 
K
e
y
b
o
a
r
d
I
n
t
e
r
r
u
p
t
:


 
 
 
 
"
"
"
T
h
e
 
K
e
y
b
o
a
r
d
I
n
t
e
r
r
u
p
t
 
f
i
t
 
r
a
i
s
e
s
 
o
n
 
C
t
r
l
-
C
,
 
c
a
r
r
y
i
n
g
 
`
`
.
h
i
s
t
o
r
y
`
`
 
a
n
d
 
`
`
.
b
a
t
c
h
e
s
`
`
.
"
"
"


 
 
 
 
h
i
s
t
o
r
y
.
i
n
t
e
r
r
u
p
t
e
d
 
=
 
T
r
u
e


 
 
 
 
e
 
=
 
K
e
y
b
o
a
r
d
I
n
t
e
r
r
u
p
t
(
f
"
f
i
t
 
s
t
o
p
p
e
d
 
b
y
 
C
t
r
l
-
C
 
{
w
h
e
r
e
}
"
)


 
 
 
 
e
.
h
i
s
t
o
r
y
,
 
e
.
b
a
t
c
h
e
s
 
=
 
h
i
s
t
o
r
y
,
 
b
a
t
c
h
e
s
 
 
#
 
t
y
p
e
:
 
i
g
n
o
r
e
[
a
t
t
r
-
d
e
f
i
n
e
d
]


 
 
 
 
r
e
t
u
r
n
 
e






c
l
a
s
s
 
_
L
o
o
p
:


 
 
 
 
"
"
"
T
h
e
 
e
p
o
c
h
s
 
o
f
 
o
n
e
 
f
i
t
.
"
"
"




 
 
 
 
d
e
f
 
_
_
i
n
i
t
_
_
(
s
e
l
f
,
 
n
e
t
:
 
N
e
t
w
o
r
k
,
 
t
h
e
t
a
:
 
G
u
a
r
d
e
d
T
h
e
t
a
,
 
e
n
g
i
n
e
:
 
E
n
g
i
n
e
,
 
d
a
t
a
:
 
_
D
a
t
a
,
 
o
p
t
:
 
_
o
p
t
.
O
p
t
i
m
i
z
e
r
,


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
s
h
u
f
f
l
e
:
 
b
o
o
l
,
 
r
n
g
:
 
n
p
.
r
a
n
d
o
m
.
G
e
n
e
r
a
t
o
r
)
 
-
>
 
N
o
n
e
:


 
 
 
 
 
 
 
 
s
e
l
f
.
n
e
t
,
 
s
e
l
f
.
t
h
e
t
a
,
 
s
e
l
f
.
e
n
g
i
n
e
,
 
s
e
l
f
.
d
a
t
a
,
 
s
e
l
f
.
o
p
t
 
=
 
n
e
t
,
 
t
h
e
t
a
,
 
e
n
g
i
n
e
,
 
d
a
t
a
,
 
o
p
t


 
 
 
 
 
 
 
 
s
e
l
f
.
s
h
u
f
f
l
e
,
 
s
e
l
f
.
r
n
g
 
=
 
s
h
u
f
f
l
e
,
 
r
n
g


 
 
 
 
 
 
 
 
s
e
l
f
.
h
i
s
t
o
r
y
 
=
 
H
i
s
t
o
r
y
(
)




 
 
 
 
d
e
f
 
e
p
o
c
h
s
(
s
e
l
f
,
 
t
r
a
i
n
e
r
:
 
T
r
a
i
n
e
r
,
 
e
p
o
c
h
s
:
 
i
n
t
,
 
v
e
r
b
o
s
e
:
 
b
o
o
l
)
 
-
>
 
H
i
s
t
o
r
y
:


 
 
 
 
 
 
 
 
d
,
 
o
p
t
,
 
h
i
s
t
o
r
y
 
=
 
s
e
l
f
.
d
a
t
a
,
 
s
e
l
f
.
o
p
t
,
 
s
e
l
f
.
h
i
s
t
o
r
y


 
 
 
 
 
 
 
 
N
 
=
 
l
e
n
(
d
.
X
)


 
 
 
 
 
 
 
 
s
e
l
f
.
n
_
b
a
t
c
h
e
s
 
=
 
-
(
-
N
 
/
/
 
t
r
a
i
n
e
r
.
b
a
t
c
h
)


 
 
 
 
 
 
 
 
#
 
W
i
t
h
 
s
h
u
f
f
l
e
,
 
e
a
c
h
 
e
p
o
c
h
'
s
 
o
r
d
e
r
 
i
s
 
a
 
f
r
e
s
h
 
p
e
r
m
u
t
a
t
i
o
n
 
o
f
 
`
`
o
r
d
e
r
`
`
;
 
w
i
t
h
o
u
t
,
 
t
h
e


 
 
 
 
 
 
 
 
#
 
k
e
r
n
e
l
s
 
r
e
a
d
 
r
o
w
s
 
i
n
 
p
l
a
c
e
 
a
n
d
 
n
e
v
e
r
 
l
o
o
k
 
a
t
 
p
e
r
m
.
 
(
S
h
u
f
f
l
i
n
g
 
o
n
e
 
r
o
w
 
d
r
a
w
s
 
n
o
t
h
i
n
g
.
)


 
 
 
 
 
 
 
 
s
e
l
f
.
o
r
d
e
r
 
=
 
n
p
.
a
r
a
n
g
e
(
N
 
i
f
 
s
e
l
f
.
s
h
u
f
f
l
e
 
e
l
s
e
 
0
,
 
d
t
y
p
e
=
n
p
.
i
n
t
6
4
)


 
 
 
 
 
 
 
 
s
e
l
f
.
p
e
r
m
 
=
 
s
e
l
f
.
o
r
d
e
r
.
c
o
p
y
(
)


 
 
 
 
 
 
 
 
s
e
l
f
.
s
w
p
 
=
 
d
.
s
w
.
c
o
p
y
(
)
 
i
f
 
s
e
l
f
.
s
h
u
f
f
l
e
 
e
l
s
e
 
d
.
s
w
 
 
#
 
t
h
e
 
w
e
i
g
h
t
s
 
i
n
 
t
h
e
 
e
p
o
c
h
'
s
 
o
r
d
e
r


 
 
 
 
 
 
 
 
s
e
l
f
.
b
a
c
k
u
p
 
=
 
n
p
.
e
m
p
t
y
_
l
i
k
e
(
s
e
l
f
.
t
h
e
t
a
.
a
r
r
a
y
)
 
 
#
 
θ
 
a
t
 
t
h
e
 
l
a
s
t
 
f
i
n
i
t
e
 
e
p
o
c
h
,
 
f
o
r
 
r
o
l
l
b
a
c
k


 
 
 
 
 
 
 
 
s
e
l
f
.
s
t
a
t
e
 
=
 
o
p
t
.
b
i
n
d
(
s
e
l
f
.
n
e
t
.
n
_
p
a
r
a
m
s
,
 
s
e
l
f
.
n
e
t
.
d
t
y
p
e
)


 
 
 
 
 
 
 
 
#
 
P
l
a
i
n
 
S
G
D
 
s
t
e
p
s
 
θ
 
i
n
s
i
d
e
 
t
h
e
 
g
r
a
d
i
e
n
t
 
G
E
M
M
 
a
n
d
 
n
e
e
d
s
 
n
o
 
g
r
a
d
i
e
n
t
 
b
u
f
f
e
r
.


 
 
 
 
 
 
 
 
s
e
l
f
.
c
o
d
e
 
=
 
F
U
S
E
D
 
i
f
 
o
p
t
.
f
u
s
e
d
 
e
l
s
e
 
o
p
t
.
c
o
d
e


 
 
 
 
 
 
 
 
s
e
l
f
.
g
r
a
d
 
=
 
s
e
l
f
.
t
h
e
t
a
.
a
r
r
a
y
[
:
0
]
 
i
f
 
o
p
t
.
f
u
s
e
d
 
e
l
s
e
 
n
p
.
e
m
p
t
y
_
l
i
k
e
(
s
e
l
f
.
t
h
e
t
a
.
a
r
r
a
y
)


 
 
 
 
 
 
 
 
f
o
r
 
c
b
 
i
n
 
d
.
c
a
l
l
b
a
c
k
s
:


 
 
 
 
 
 
 
 
 
 
 
 
c
b
.
o
n
_
t
r
a
i
n
_
b
e
g
i
n
(
s
e
l
f
.
n
e
t
,
 
h
i
s
t
o
r
y
)


 
 
 
 
 
 
 
 
e
p
o
c
h
_
i
t
e
r
:
 
A
n
y
 
=
 
r
a
n
g
e
(
1
,
 
e
p
o
c
h
s
 
+
 
1
)


 
 
 
 
 
 
 
 
i
f
 
v
e
r
b
o
s
e
:


 
 
 
 
 
 
 
 
 
 
 
 
f
r
o
m
 
t
q
d
m
.
a
u
t
o
 
i
m
p
o
r
t
 
t
q
d
m




 
 
 
 
 
 
 
 
 
 
 
 
e
p
o
c
h
_
i
t
e
r
 
=
 
t
q
d
m
(
e
p
o
c
h
_
i
t
e
r
,
 
d
e
s
c
=
"
f
i
t
"
,
 
u
n
i
t
=
"
e
p
o
c
h
"
)


 
 
 
 
 
 
 
 
t
r
y
:


 
 
 
 
 
 
 
 
 
 
 
 
w
i
t
h
 
d
e
f
e
r
r
e
d
_
i
n
t
e
r
r
u
p
t
(
)
 
a
s
 
i
n
t
e
r
r
u
p
t
e
d
:


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
f
o
r
 
e
p
o
c
h
 
i
n
 
e
p
o
c
h
_
i
t
e
r
:


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
l
o
g
s
 
=
 
s
e
l
f
.
e
p
o
c
h
(
t
r
a
i
n
e
r
,
 
e
p
o
c
h
,
 
v
e
r
b
o
s
e
,
 
i
n
t
e
r
r
u
p
t
e
d
)


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
s
t
o
p
 
=
 
s
e
l
f
.
_
e
n
d
_
e
p
o
c
h
(
e
p
o
c
h
,
 
l
o
g
s
,
 
e
p
o
c
h
_
i
t
e
r
 
i
f
 
v
e
r
b
o
s
e
 
e
l
s
e
 
N
o
n
e
)


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
i
f
 
i
n
t
e
r
r
u
p
t
e
d
(
)
:


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
r
a
i
s
e
 
_
i
n
t
e
r
r
u
p
t
e
d
(
h
i
s
t
o
r
y
,
 
0
,
 
f
"
a
f
t
e
r
 
e
p
o
c
h
 
{
e
p
o
c
h
}
"
)


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
i
f
 
s
t
o
p
:


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
h
i
s
t
o
r
y
.
s
t
o
p
p
e
d
_
e
p
o
c
h
 
=
 
e
p
o
c
h


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
b
r
e
a
k


 
 
 
 
 
 
 
 
e
x
c
e
p
t
 
(
K
e
y
b
o
a
r
d
I
n
t
e
r
r
u
p
t
,
 
D
i
v
e
r
g
e
d
E
r
r
o
r
)
:


 
 
 
 
 
 
 
 
 
 
 
 
s
e
l
f
.
_
t
r
a
i
n
_
e
n
d
(
)
 
 
#
 
c
a
l
l
b
a
c
k
s
 
s
e
e
 
t
h
e
 
e
n
d
 
o
f
 
a
 
f
i
t
 
h
o
w
e
v
e
r
 
i
t
 
e
n
d
s


 
 
 
 
 
 
 
 
 
 
 
 
r
a
i
s
e


 
 
 
 
 
 
 
 
s
e
l
f
.
_
t
r
a
i
n
_
e
n
d
(
)


 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
h
i
s
t
o
r
y




 
 
 
 
d
e
f
 
_
t
r
a
i
n
_
e
n
d
(
s
e
l
f
)
 
-
>
 
N
o
n
e
:


 
 
 
 
 
 
 
 
f
o
r
 
c
b
 
i
n
 
s
e
l
f
.
d
a
t
a
.
c
a
l
l
b
a
c
k
s
:


 
 
 
 
 
 
 
 
 
 
 
 
c
b
.
o
n
_
t
r
a
i
n
_
e
n
d
(
s
e
l
f
.
n
e
t
,
 
s
e
l
f
.
h
i
s
t
o
r
y
)




 
 
 
 
d
e
f
 
_
s
h
u
f
f
l
e
(
s
e
l
f
)
 
-
>
 
N
o
n
e
:


 
 
 
 
 
 
 
 
"
"
"
T
h
i
s
 
e
p
o
c
h
'
s
 
o
r
d
e
r
:
 
d
e
p
e
n
d
s
 
o
n
 
t
h
e
 
g
e
n
e
r
a
t
o
r
 
a
l
o
n
e
,
 
s
o
 
f
i
t
s
 
r
e
s
u
m
e
 
e
x
a
c
t
l
y
.
"
"
"


 
 
 
 
 
 
 
 
n
p
.
c
o
p
y
t
o
(
s
e
l
f
.
p
e
r
m
,
 
s
e
l
f
.
o
r
d
e
r
)


 
 
 
 
 
 
 
 
s
e
l
f
.
r
n
g
.
s
h
u
f
f
l
e
(
s
e
l
f
.
p
e
r
m
)


 
 
 
 
 
 
 
 
i
f
 
s
e
l
f
.
d
a
t
a
.
s
w
.
s
i
z
e
:


 
 
 
 
 
 
 
 
 
 
 
 
n
p
.
t
a
k
e
(
s
e
l
f
.
d
a
t
a
.
s
w
,
 
s
e
l
f
.
p
e
r
m
,
 
o
u
t
=
s
e
l
f
.
s
w
p
)




 
 
 
 
d
e
f
 
e
p
o
c
h
(
s
e
l
f
,
 
t
r
a
i
n
e
r
:
 
T
r
a
i
n
e
r
,
 
e
p
o
c
h
:
 
i
n
t
,
 
v
e
r
b
o
s
e
:
 
b
o
o
l
,
 
i
n
t
e
r
r
u
p
t
e
d
:
 
C
a
l
l
a
b
l
e
[
[
]
,
 
b
o
o
l
]
)
 
-
>
 
d
i
c
t
:


 
 
 
 
 
 
 
 
"
"
"
O
n
e
 
e
p
o
c
h
;
 
i
t
s
 
l
o
g
s
 
(
l
o
s
s
,
 
t
i
m
e
,
 
l
r
,
 
v
a
l
i
d
a
t
i
o
n
)
.
"
"
"


 
 
 
 
 
 
 
 
t
0
 
=
 
t
i
m
e
.
p
e
r
f
_
c
o
u
n
t
e
r
(
)


 
 
 
 
 
 
 
 
i
f
 
s
e
l
f
.
s
h
u
f
f
l
e
:


 
 
 
 
 
 
 
 
 
 
 
 
s
e
l
f
.
_
s
h
u
f
f
l
e
(
)


 
 
 
 
 
 
 
 
n
p
.
c
o
p
y
t
o
(
s
e
l
f
.
b
a
c
k
u
p
,
 
s
e
l
f
.
t
h
e
t
a
.
a
r
r
a
y
)


 
 
 
 
 
 
 
 
h
 
=
 
s
e
l
f
.
o
p
t
.
h
y
p
e
r
(
)


 
 
 
 
 
 
 
 
N
 
=
 
l
e
n
(
s
e
l
f
.
d
a
t
a
.
X
)


 
 
 
 
 
 
 
 
l
o
s
s
,
 
d
o
n
e
 
=
 
s
e
l
f
.
_
r
u
n
_
b
a
t
c
h
e
s
(
t
r
a
i
n
e
r
,
 
e
p
o
c
h
,
 
h
,
 
v
e
r
b
o
s
e
,
 
i
n
t
e
r
r
u
p
t
e
d
)


 
 
 
 
 
 
 
 
b
a
t
c
h
,
 
o
p
t
 
=
 
t
r
a
i
n
e
r
.
b
a
t
c
h
,
 
s
e
l
f
.
o
p
t


 
 
 
 
 
 
 
 
i
f
 
d
o
n
e
 
<
 
N
:
 
 
#
 
C
t
r
l
-
C
 
w
i
t
h
i
n
 
t
h
e
 
e
p
o
c
h
:
 
θ
 
a
n
d
 
t
h
e
 
o
p
t
i
m
i
z
e
r
 
a
r
e
 
a
f
t
e
r
 
b
a
t
c
h
 
d
o
n
e
/
B


 
 
 
 
 
 
 
 
 
 
 
 
s
e
l
f
.
_
c
h
e
c
k
_
f
i
n
i
t
e
(
l
o
s
s
 
/
 
d
o
n
e
,
 
h
,
 
e
p
o
c
h
)


 
 
 
 
 
 
 
 
 
 
 
 
o
p
t
.
t
 
+
=
 
d
o
n
e
 
/
/
 
b
a
t
c
h


 
 
 
 
 
 
 
 
 
 
 
 
r
a
i
s
e
 
_
i
n
t
e
r
r
u
p
t
e
d
(
s
e
l
f
.
h
i
s
t
o
r
y
,
 
d
o
n
e
 
/
/
 
b
a
t
c
h
,
 
f
"
i
n
 
e
p
o
c
h
 
{
e
p
o
c
h
}
,
 
a
f
t
e
r
 
{
d
o
n
e
 
/
/
 
b
a
t
c
h
}
 
"


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
f
"
o
f
 
i
t
s
 
{
s
e
l
f
.
n
_
b
a
t
c
h
e
s
}
 
b
a
t
c
h
e
s
"
)


 
 
 
 
 
 
 
 
l
o
s
s
 
/
=
 
N


 
 
 
 
 
 
 
 
s
e
l
f
.
_
c
h
e
c
k
_
f
i
n
i
t
e
(
l
o
s
s
,
 
h
,
 
e
p
o
c
h
)


 
 
 
 
 
 
 
 
o
p
t
.
t
 
+
=
 
s
e
l
f
.
n
_
b
a
t
c
h
e
s


 
 
 
 
 
 
 
 
o
p
t
.
e
p
o
c
h
 
+
=
 
1


 
 
 
 
 
 
 
 
o
p
t
.
s
c
h
e
d
u
l
e
.
r
e
p
o
r
t
(
f
l
o
a
t
(
l
o
s
s
)
)


 
 
 
 
 
 
 
 
l
o
g
s
 
=
 
{
"
l
o
s
s
"
:
 
f
l
o
a
t
(
l
o
s
s
)
,
 
"
t
i
m
e
"
:
 
t
i
m
e
.
p
e
r
f
_
c
o
u
n
t
e
r
(
)
 
-
 
t
0
,
 
"
l
r
"
:
 
f
l
o
a
t
(
h
.
l
r
)
}


 
 
 
 
 
 
 
 
i
f
 
s
e
l
f
.
d
a
t
a
.
v
a
l
 
i
s
 
n
o
t
 
N
o
n
e
:


 
 
 
 
 
 
 
 
 
 
 
 
l
o
g
s
.
u
p
d
a
t
e
(
s
e
l
f
.
_
v
a
l
i
d
a
t
e
(
)
)


 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
l
o
g
s




 
 
 
 
d
e
f
 
_
r
u
n
_
b
a
t
c
h
e
s
(
s
e
l
f
,
 
t
r
a
i
n
e
r
:
 
T
r
a
i
n
e
r
,
 
e
p
o
c
h
:
 
i
n
t
,
 
h
:
 
_
o
p
t
.
H
y
p
e
r
,
 
v
e
r
b
o
s
e
:
 
b
o
o
l
,


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
i
n
t
e
r
r
u
p
t
e
d
:
 
C
a
l
l
a
b
l
e
[
[
]
,
 
b
o
o
l
]
)
 
-
>
 
t
u
p
l
e
[
f
l
o
a
t
,
 
i
n
t
]
:


 
 
 
 
 
 
 
 
"
"
"
R
u
n
s
 
o
f
 
w
h
o
l
e
 
b
a
t
c
h
e
s
 
o
f
 
a
b
o
u
t
 
R
U
N
_
S
E
C
O
N
D
S
,
 
C
t
r
l
-
C
 
b
e
t
w
e
e
n
 
t
h
e
m
:
 
(
Σ
 
L
,
 
r
o
w
s
 
d
o
n
e
)
.
"
"
"


 
 
 
 
 
 
 
 
d
,
 
e
,
 
b
a
t
c
h
 
=
 
s
e
l
f
.
d
a
t
a
,
 
s
e
l
f
.
e
n
g
i
n
e
,
 
t
r
a
i
n
e
r
.
b
a
t
c
h


 
 
 
 
 
 
 
 
N
 
=
 
l
e
n
(
d
.
X
)


 
 
 
 
 
 
 
 
l
o
s
s
,
 
d
o
n
e
 
=
 
0
.
0
,
 
0


 
 
 
 
 
 
 
 
b
a
r
 
=
 
s
e
l
f
.
_
b
a
t
c
h
_
b
a
r
(
N
,
 
b
a
t
c
h
,
 
e
p
o
c
h
)
 
i
f
 
v
e
r
b
o
s
e
 
e
l
s
e
 
N
o
n
e


 
 
 
 
 
 
 
 
w
h
i
l
e
 
d
o
n
e
 
<
 
N
:


 
 
 
 
 
 
 
 
 
 
 
 
r
o
w
s
 
=
 
N
 
i
f
 
t
r
a
i
n
e
r
.
w
h
o
l
e
_
e
p
o
c
h
s
 
e
l
s
e
 
s
e
l
f
.
_
r
u
n
_
r
o
w
s
(
b
a
t
c
h
,
 
N
 
-
 
d
o
n
e
)


 
 
 
 
 
 
 
 
 
 
 
 
c
0
 
=
 
t
i
m
e
.
p
e
r
f
_
c
o
u
n
t
e
r
(
)


 
 
 
 
 
 
 
 
 
 
 
 
l
o
s
s
 
=
 
t
r
a
i
n
e
r
.
r
u
n
(
s
e
l
f
.
t
h
e
t
a
.
a
r
r
a
y
,
 
s
e
l
f
.
g
r
a
d
,
 
s
e
l
f
.
s
t
a
t
e
,
 
d
.
X
,
 
d
.
Y
,
 
s
e
l
f
.
p
e
r
m
,
 
s
e
l
f
.
s
h
u
f
f
l
e
,


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
s
e
l
f
.
s
w
p
,
 
d
o
n
e
,
 
d
o
n
e
 
+
 
r
o
w
s
,
 
s
e
l
f
.
c
o
d
e
,
 
h
,
 
s
e
l
f
.
o
p
t
.
t
 
+
 
d
o
n
e
 
/
/
 
b
a
t
c
h
,
 
l
o
s
s
,


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
f
r
e
s
h
=
d
o
n
e
 
=
=
 
0
)


 
 
 
 
 
 
 
 
 
 
 
 
e
.
r
o
w
_
s
e
c
o
n
d
s
 
=
 
(
t
i
m
e
.
p
e
r
f
_
c
o
u
n
t
e
r
(
)
 
-
 
c
0
)
 
/
 
r
o
w
s


 
 
 
 
 
 
 
 
 
 
 
 
d
o
n
e
 
+
=
 
r
o
w
s


 
 
 
 
 
 
 
 
 
 
 
 
i
f
 
b
a
r
 
i
s
 
n
o
t
 
N
o
n
e
:


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
b
a
r
.
u
p
d
a
t
e
(
-
(
-
r
o
w
s
 
/
/
 
b
a
t
c
h
)
)


 
 
 
 
 
 
 
 
 
 
 
 
i
f
 
d
o
n
e
 
<
 
N
 
a
n
d
 
i
n
t
e
r
r
u
p
t
e
d
(
)
:


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
b
r
e
a
k


 
 
 
 
 
 
 
 
i
f
 
b
a
r
 
i
s
 
n
o
t
 
N
o
n
e
:


 
 
 
 
 
 
 
 
 
 
 
 
b
a
r
.
c
l
o
s
e
(
)


 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
l
o
s
s
,
 
d
o
n
e




 
 
 
 
d
e
f
 
_
r
u
n
_
r
o
w
s
(
s
e
l
f
,
 
b
a
t
c
h
:
 
i
n
t
,
 
l
e
f
t
:
 
i
n
t
)
 
-
>
 
i
n
t
:


 
 
 
 
 
 
 
 
"
"
"
R
o
w
s
 
f
o
r
 
t
h
e
 
n
e
x
t
 
k
e
r
n
e
l
 
c
a
l
l
:
 
w
h
o
l
e
 
b
a
t
c
h
e
s
 
w
o
r
t
h
 
a
b
o
u
t
 
R
U
N
_
S
E
C
O
N
D
S
 
b
y
 
t
h
e
 
l
a
s
t


 
 
 
 
 
 
 
 
c
a
l
l
'
s
 
s
p
e
e
d
 
(
o
n
e
 
b
a
t
c
h
 
o
n
 
a
 
n
e
t
w
o
r
k
'
s
 
f
i
r
s
t
 
c
a
l
l
)
,
 
o
r
 
a
l
l
 
t
h
a
t
 
i
s
 
l
e
f
t
.
"
"
"


 
 
 
 
 
 
 
 
i
f
 
s
e
l
f
.
e
n
g
i
n
e
.
r
o
w
_
s
e
c
o
n
d
s
 
i
s
 
N
o
n
e
:


 
 
 
 
 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
m
i
n
(
b
a
t
c
h
,
 
l
e
f
t
)


 
 
 
 
 
 
 
 
r
o
w
s
 
=
 
i
n
t
(
R
U
N
_
S
E
C
O
N
D
S
 
/
 
m
a
x
(
s
e
l
f
.
e
n
g
i
n
e
.
r
o
w
_
s
e
c
o
n
d
s
,
 
1
e
-
1
2
)
)
 
/
/
 
b
a
t
c
h
 
*
 
b
a
t
c
h


 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
m
i
n
(
m
a
x
(
r
o
w
s
,
 
b
a
t
c
h
)
,
 
l
e
f
t
)




 
 
 
 
d
e
f
 
_
b
a
t
c
h
_
b
a
r
(
s
e
l
f
,
 
N
:
 
i
n
t
,
 
b
a
t
c
h
:
 
i
n
t
,
 
e
p
o
c
h
:
 
i
n
t
)
 
-
>
 
A
n
y
:


 
 
 
 
 
 
 
 
"
"
"
A
 
p
r
o
g
r
e
s
s
 
b
a
r
 
o
v
e
r
 
t
h
e
 
e
p
o
c
h
'
s
 
b
a
t
c
h
e
s
 
(
f
i
t
 
w
i
t
h
 
v
e
r
b
o
s
e
)
 
w
h
e
n
 
t
h
e
 
e
p
o
c
h
 
l
o
o
k
s
 
l
o
n
g
.
"
"
"


 
 
 
 
 
 
 
 
r
s
 
=
 
s
e
l
f
.
e
n
g
i
n
e
.
r
o
w
_
s
e
c
o
n
d
s


 
 
 
 
 
 
 
 
i
f
 
r
s
 
i
s
 
N
o
n
e
 
o
r
 
r
s
 
*
 
N
 
<
 
L
O
N
G
_
E
P
O
C
H
_
S
E
C
O
N
D
S
:


 
 
 
 
 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
N
o
n
e


 
 
 
 
 
 
 
 
f
r
o
m
 
t
q
d
m
.
a
u
t
o
 
i
m
p
o
r
t
 
t
q
d
m




 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
t
q
d
m
(
t
o
t
a
l
=
-
(
-
N
 
/
/
 
b
a
t
c
h
)
,
 
d
e
s
c
=
f
"
e
p
o
c
h
 
{
e
p
o
c
h
}
"
,
 
u
n
i
t
=
"
b
a
t
c
h
"
,
 
l
e
a
v
e
=
F
a
l
s
e
)




 
 
 
 
d
e
f
 
_
c
h
e
c
k
_
f
i
n
i
t
e
(
s
e
l
f
,
 
l
o
s
s
:
 
f
l
o
a
t
,
 
h
:
 
_
o
p
t
.
H
y
p
e
r
,
 
e
p
o
c
h
:
 
i
n
t
)
 
-
>
 
N
o
n
e
:


 
 
 
 
 
 
 
 
"
"
"
R
o
l
l
b
a
c
k
 
o
n
 
d
i
v
e
r
g
e
n
c
e
:
 
θ
 
b
a
c
k
 
t
o
 
t
h
e
 
l
a
s
t
 
f
i
n
i
t
e
 
e
p
o
c
h
,
 
t
h
e
 
m
o
m
e
n
t
s
 
r
e
s
e
t
,
 
a
n
d


 
 
 
 
 
 
 
 
D
i
v
e
r
g
e
d
E
r
r
o
r
,
 
w
h
e
n
 
t
h
e
 
l
o
s
s
 
o
r
 
θ
 
i
s
 
n
o
t
 
f
i
n
i
t
e
.
"
"
"


 
 
 
 
 
 
 
 
t
h
e
t
a
 
=
 
s
e
l
f
.
t
h
e
t
a
.
a
r
r
a
y


 
 
 
 
 
 
 
 
i
f
 
m
a
t
h
.
i
s
f
i
n
i
t
e
(
l
o
s
s
)
 
a
n
d
 
a
l
l
_
f
i
n
i
t
e
(
t
h
e
t
a
)
:


 
 
 
 
 
 
 
 
 
 
 
 
r
e
t
u
r
n


 
 
 
 
 
 
 
 
n
p
.
c
o
p
y
t
o
(
t
h
e
t
a
,
 
s
e
l
f
.
b
a
c
k
u
p
)


 
 
 
 
 
 
 
 
s
e
l
f
.
o
p
t
.
r
e
s
e
t
(
)


 
 
 
 
 
 
 
 
l
a
s
t
 
=
 
f
"
t
h
e
 
e
n
d
 
o
f
 
e
p
o
c
h
 
{
e
p
o
c
h
 
-
 
1
}
"
 
i
f
 
e
p
o
c
h
 
>
 
1
 
e
l
s
e
 
"
t
h
e
i
r
 
i
n
i
t
i
a
l
 
v
a
l
u
e
s
"


 
 
 
 
 
 
 
 
h
i
n
t
 
=
 
_
v
a
l
i
d
a
t
e
.
o
v
e
r
f
l
o
w
_
h
i
n
t
(
s
e
l
f
.
n
e
t
.
d
t
y
p
e
,
 
s
e
l
f
.
d
a
t
a
.
X
,
 
s
e
l
f
.
d
a
t
a
.
Y
)


 
 
 
 
 
 
 
 
a
d
v
i
c
e
 
=
 
h
i
n
t
[
2
:
]
 
i
f
 
h
i
n
t
 
e
l
s
e
 
f
"
T
r
y
 
a
 
s
m
a
l
l
e
r
 
l
r
 
t
h
a
n
 
{
h
.
l
r
:
g
}
,
 
e
.
g
.
 
l
r
=
{
h
.
l
r
 
/
 
1
0
:
g
}
"


 
 
 
 
 
 
 
 
r
a
i
s
e
 
D
i
v
e
r
g
e
d
E
r
r
o
r
(
f
"
t
r
a
i
n
i
n
g
 
d
i
v
e
r
g
e
d
 
i
n
 
e
p
o
c
h
 
{
e
p
o
c
h
}
 
(
l
o
s
s
 
{
l
o
s
s
}
)
;
 
w
e
i
g
h
t
s
 
w
e
r
e
 
r
e
s
t
o
r
e
d
 
"


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
f
"
t
o
 
{
l
a
s
t
}
.
 
{
a
d
v
i
c
e
[
0
]
.
u
p
p
e
r
(
)
}
{
a
d
v
i
c
e
[
1
:
]
}
"
,
 
e
p
o
c
h
=
e
p
o
c
h
,
 
l
o
s
s
=
f
l
o
a
t
(
l
o
s
s
)
)




 
 
 
 
d
e
f
 
_
v
a
l
i
d
a
t
e
(
s
e
l
f
)
 
-
>
 
d
i
c
t
:


 
 
 
 
 
 
 
 
"
"
"
v
a
l
_
l
o
s
s
 
a
n
d
 
t
h
e
 
v
a
l
_
<
m
e
t
r
i
c
>
 
v
a
l
u
e
s
 
o
f
 
t
h
e
 
c
u
r
r
e
n
t
 
θ
 
o
n
 
t
h
e
 
v
a
l
i
d
a
t
i
o
n
 
r
o
w
s
.
"
"
"


 
 
 
 
 
 
 
 
X
v
,
 
Y
v
,
 
w
v
 
=
 
s
e
l
f
.
d
a
t
a
.
v
a
l


 
 
 
 
 
 
 
 
n
e
t
,
 
e
 
=
 
s
e
l
f
.
n
e
t
,
 
s
e
l
f
.
e
n
g
i
n
e


 
 
 
 
 
 
 
 
t
o
t
a
l
 
=
 
e
.
l
o
s
s
_
s
u
m
(
s
e
l
f
.
t
h
e
t
a
.
a
r
r
a
y
,
 
X
v
,
 
Y
v
,
 
w
v
)


 
 
 
 
 
 
 
 
l
o
g
s
 
=
 
{
"
v
a
l
_
l
o
s
s
"
:
 
f
l
o
a
t
(
t
o
t
a
l
 
/
 
(
w
v
.
s
u
m
(
d
t
y
p
e
=
n
p
.
f
l
o
a
t
6
4
)
 
i
f
 
w
v
.
s
i
z
e
 
e
l
s
e
 
l
e
n
(
X
v
)
)
)
}


 
 
 
 
 
 
 
 
i
f
 
s
e
l
f
.
d
a
t
a
.
m
e
t
r
i
c
s
:


 
 
 
 
 
 
 
 
 
 
 
 
P
 
=
 
n
p
.
e
m
p
t
y
(
(
l
e
n
(
X
v
)
,
 
n
e
t
.
s
i
z
e
s
[
-
1
]
)
,
 
n
e
t
.
d
t
y
p
e
)


 
 
 
 
 
 
 
 
 
 
 
 
e
.
p
r
e
d
i
c
t
(
s
e
l
f
.
t
h
e
t
a
.
a
r
r
a
y
,
 
X
v
,
 
P
)


 
 
 
 
 
 
 
 
 
 
 
 
f
o
r
 
k
e
y
,
 
f
n
 
i
n
 
s
e
l
f
.
d
a
t
a
.
m
e
t
r
i
c
s
:


 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
 
l
o
g
s
[
k
e
y
]
 
=
 
f
l
o
a
t
(
f
n
(
Y
v
,
 
P
)
)


 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
l
o
g
s




 
 
 
 
d
e
f
 
_
e
n
d
_
e
p
o
c
h
(
s
e
l
f
,
 
e
p
o
c
h
:
 
i
n
t
,
 
l
o
g
s
:
 
d
i
c
t
,
 
b
a
r
:
 
A
n
y
)
 
-
>
 
b
o
o
l
:


 
 
 
 
 
 
 
 
"
"
"
H
i
s
t
o
r
y
,
 
c
a
l
l
b
a
c
k
s
 
(
T
r
u
e
:
 
o
n
e
 
a
s
k
e
d
 
t
o
 
s
t
o
p
)
,
 
p
r
o
g
r
e
s
s
 
a
n
d
 
t
h
e
 
s
n
a
p
s
h
o
t
 
f
o
r
 
r
e
a
d
e
r
s
.
"
"
"


 
 
 
 
 
 
 
 
s
e
l
f
.
h
i
s
t
o
r
y
.
a
p
p
e
n
d
(
l
o
g
s
)


 
 
 
 
 
 
 
 
s
t
o
p
 
=
 
F
a
l
s
e


 
 
 
 
 
 
 
 
f
o
r
 
c
b
 
i
n
 
s
e
l
f
.
d
a
t
a
.
c
a
l
l
b
a
c
k
s
:


 
 
 
 
 
 
 
 
 
 
 
 
s
t
o
p
 
=
 
b
o
o
l
(
c
b
.
o
n
_
e
p
o
c
h
_
e
n
d
(
s
e
l
f
.
n
e
t
,
 
e
p
o
c
h
,
 
l
o
g
s
)
)
 
o
r
 
s
t
o
p


 
 
 
 
 
 
 
 
i
f
 
b
a
r
 
i
s
 
n
o
t
 
N
o
n
e
:


 
 
 
 
 
 
 
 
 
 
 
 
b
a
r
.
s
e
t
_
p
o
s
t
f
i
x
(
{
k
:
 
f
"
{
v
:
.
4
g
}
"
 
f
o
r
 
k
,
 
v
 
i
n
 
l
o
g
s
.
i
t
e
m
s
(
)
 
i
f
 
k
 
!
=
 
"
t
i
m
e
"
}
,
 
r
e
f
r
e
s
h
=
F
a
l
s
e
)


 
 
 
 
 
 
 
 
s
e
l
f
.
t
h
e
t
a
.
p
u
b
l
i
s
h
(
)


 
 
 
 
 
 
 
 
r
e
t
u
r
n
 
s
t
o
p


