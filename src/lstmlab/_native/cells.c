/* The gate math of the variant cells, one step or a whole sequence per call, forward and
   backward: lstmlab/layers/_cell_kernels.py binds it, lstmlab/layers/_compiled.py runs it.
   cells_template.h is compiled twice: real = float (names ending _f), real = double (_d). */
#include "lstmlab_native.h"

#define real float
#define NAME(n) n##_f
#define EXP expf
#define TANH tanhf
#include "cells_template.h"
#undef real
#undef NAME
#undef EXP
#undef TANH

#define real double
#define NAME(n) n##_d
#define EXP exp
#define TANH tanh
#include "cells_template.h"
#undef real
#undef NAME
#undef EXP
#undef TANH
