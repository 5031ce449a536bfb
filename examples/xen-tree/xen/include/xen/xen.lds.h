/*
 * Pieces shared by the linker scripts of the patchbot example tree, shaped
 * like Xen's include/xen/xen.lds.h.  Several macros expand to many
 * statements on a single line of the preprocessed script.
 */
#ifndef __XEN_LDS_H__
#define __XEN_LDS_H__

#ifdef DECL_SECTION_WITH_LADDR
/* Load addresses start at 0 rather than at the virtual base. */
# ifdef CONFIG_LD_IS_GNU
#  define DECL_SECTION(x) x : AT(ADDR(#x) - __XEN_VIRT_START)
# else
#  define DECL_SECTION(x) x : AT(ADDR(x) - __XEN_VIRT_START)
# endif
#else
# define DECL_SECTION(x) x :
#endif

#define DECL_DEBUG(x, a) x 0 : { *(x) }
#define DECL_DEBUG2(x, y, a) x 0 : { *(x) *(y) }

#define DWARF2_DEBUG_SECTIONS                     \
  DECL_DEBUG(.debug_abbrev, 1)                    \
  DECL_DEBUG2(.debug_info, .gnu.linkonce.wi.*, 1) \
  DECL_DEBUG(.debug_str, 1)                       \
  DECL_DEBUG2(.debug_line, .debug_line.*, 1)      \
  DECL_DEBUG(.debug_ranges, POINTER_ALIGN)

#define ELF_DETAILS_SECTIONS                 \
  .comment 0 : { *(.comment) *(.comment.*) } \
  .symtab 0 : { *(.symtab) }                 \
  .strtab 0 : { *(.strtab) }                 \
  .shstrtab 0 : { *(.shstrtab) }

#define DISCARD_SECTIONS     \
  /DISCARD/ : {              \
       *(.text.exit)         \
       *(.exit.text)         \
       *(.exit.data)         \
       *(.discard)           \
       *(.discard.*)         \
       *(.eh_frame)          \
  }

#define BUGFRAMES                               \
    __start_bug_frames_0 = .;                   \
    *(.bug_frames.0)                            \
    __stop_bug_frames_0 = .;                    \
    __start_bug_frames_1 = .;                   \
    *(.bug_frames.1)                            \
    __stop_bug_frames_1 = .;

#define PERCPU_BSS                 \
       . = ALIGN(PAGE_SIZE);       \
       __per_cpu_start = .;        \
       *(.bss.percpu.page_aligned) \
       *(.bss.percpu)              \
       . = ALIGN(SMP_CACHE_BYTES); \
       *(.bss.percpu.read_mostly)  \
       . = ALIGN(SMP_CACHE_BYTES); \
       __per_cpu_data_end = .;

#endif /* __XEN_LDS_H__ */
