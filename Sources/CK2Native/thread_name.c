#define _GNU_SOURCE
#include "CK2Native.h"
#include <pthread.h>

int k2_set_thread_name(const char *name) {
#if defined(__GLIBC__)
    return pthread_setname_np(pthread_self(), name) == 0;
#else
    (void)name;
    return 0;
#endif
}
