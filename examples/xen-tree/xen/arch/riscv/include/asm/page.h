/* riscv page size and layout of the patchbot example tree. */
#ifndef __ASM_RISCV_PAGE_H__
#define __ASM_RISCV_PAGE_H__

#define PAGE_SHIFT       12
#define PAGE_SIZE        (_AC(1, L) << PAGE_SHIFT)
#define POINTER_ALIGN    8

#define XEN_VIRT_START   _AC(0xFFFFFFFFC0000000, UL)

/* The code that switches page tables sits in one aligned block. */
#define IDENT_AREA_SIZE  64

#endif
