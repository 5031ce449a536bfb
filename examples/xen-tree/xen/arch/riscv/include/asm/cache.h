/* riscv cache line size. */
#ifndef __ASM_RISCV_CACHE_H__
#define __ASM_RISCV_CACHE_H__

#define L1_CACHE_SHIFT  6

#endif
