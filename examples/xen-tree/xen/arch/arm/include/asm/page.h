/* arm page size and layout of the patchbot example tree. */
#ifndef __ASM_ARM_PAGE_H__
#define __ASM_ARM_PAGE_H__

#define PAGE_SHIFT       12
#define PAGE_SIZE        (_AC(1, L) << PAGE_SHIFT)
#ifdef __aarch64__
# define POINTER_ALIGN   8
#else
# define POINTER_ALIGN   4
#endif

#define XEN_VIRT_START   _AC(0x00200000, UL)

#endif
