/* ppc page size and layout of the patchbot example tree (64K pages). */
#ifndef __ASM_PPC_PAGE_H__
#define __ASM_PPC_PAGE_H__

#define PAGE_SHIFT       16
#define PAGE_SIZE        (_AC(1, L) << PAGE_SHIFT)
#define POINTER_ALIGN    8

#define XEN_VIRT_START   _AC(0xc000000000000000, UL)
#define __XEN_VIRT_START XEN_VIRT_START

#endif
