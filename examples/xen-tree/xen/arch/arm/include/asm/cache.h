/* arm cache line size. */
#ifndef __ASM_ARM_CACHE_H__
#define __ASM_ARM_CACHE_H__

#define L1_CACHE_SHIFT  6

#endif
