#include <oneapi/dnnl/dnnl.h>

// oneDNN (Debian's build) runs its threads on GCC's OpenMP; omp.h is GCC's own header, not on
// Clang's search path, so the one function the lab calls is declared here.
void omp_set_num_threads(int count);
