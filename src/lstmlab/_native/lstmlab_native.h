/* Shared by every kernel of lstmlab (the .c files beside it), built by lstmlab/native.py.

   LSTMLAB_EXPORT marks a function Python calls. Its parameter list is also its binding: every
   array parameter is written with its length in elements, e.g. `real h[restrict B * H]`, and
   lstmlab.native reads these lengths to check each tensor before its pointer crosses. A length
   is arithmetic (+ - * and parentheses) over earlier `long` parameters. LSTMLAB_NULLABLE inside
   the brackets lets Python pass NULL (None) for that array. */
#ifndef LSTMLAB_NATIVE_H
#define LSTMLAB_NATIVE_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LSTMLAB_EXPORT __attribute__((visibility("default")))
#define LSTMLAB_NULLABLE

/* The opt-in build (LSTMLAB_NATIVE_ARCH=1: -march=native) also vectorizes exp and tanh through
   glibc's vector math library (libmvec), declared as <math.h> does under -ffast-math. The
   portable build calls the scalar functions of libm. */
#ifdef LSTMLAB_VECTOR_MATH
__attribute__((__simd__("notinbranch"))) float expf(float);
__attribute__((__simd__("notinbranch"))) float tanhf(float);
__attribute__((__simd__("notinbranch"))) double exp(double);
__attribute__((__simd__("notinbranch"))) double tanh(double);
#endif

#endif
