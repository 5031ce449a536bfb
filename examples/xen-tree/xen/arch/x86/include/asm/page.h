/* x86 page size and layout of the patchbot example tree. */
#ifndef __ASM_X86_PAGE_H__
#define __ASM_X86_PAGE_H__

#define PAGE_SHIFT       12
#define PAGE_SIZE        (_AC(1, L) << PAGE_SHIFT)
#define POINTER_ALIGN    8

#define XEN_VIRT_START   _AC(0xffff82d040000000, UL)
#define XEN_VIRT_END     (XEN_VIRT_START + GB(1))
#define __XEN_VIRT_START XEN_VIRT_START

#endif
