/* arm linker script of the patchbot example tree (shaped like Xen's). */

#include <xen/cache.h>
#include <xen/xen.lds.h>
#include <asm/page.h>

#undef ENTRY
#undef ALIGN

ENTRY(start)

#if defined(__arm__)
#define FORMAT arm
#elif defined(__aarch64__)
#define FORMAT aarch64
#endif

OUTPUT_ARCH(FORMAT)

PHDRS
{
  text PT_LOAD ;
}

SECTIONS
{
  . = XEN_VIRT_START;
  _start = .;
  .text : {
        _stext = .;            /* Text section */
       *(.text.header)
       _idmap_start = .;
       *(.text.idmap)
       _idmap_end = .;

       *(.text.cold)
       *(.text.unlikely .text.*_unlikely .text.unlikely.*)

       *(.text)
#ifdef CONFIG_CC_SPLIT_SECTIONS
       *(.text.*)
#endif
       *(.fixup)
       *(.gnu.warning)
       _etext = .;             /* End of text section */
  } :text = 0x9090

  . = ALIGN(PAGE_SIZE);
  .rodata : {
        _srodata = .;          /* Read-only data */
       BUGFRAMES
       *(.rodata)
       *(.rodata.*)
       *(.data.rel.ro)
       *(.data.rel.ro.*)

       . = ALIGN(4);
       __proc_info_start = .;
       *(.proc.info)
       __proc_info_end = .;
  } :text
  _erodata = .;                /* End of read-only data */

  . = ALIGN(SMP_CACHE_BYTES);
  .data.read_mostly : {
       *(.data.read_mostly)
  } :text

  .data : {                    /* Data */
       *(.data.page_aligned)
       *(.data .data.*)
       CONSTRUCTORS
  } :text

  . = ALIGN(PAGE_SIZE);        /* Init code and data */
  __init_begin = .;
  .init.text : {
       _sinittext = .;
       *(.init.text)
       _einittext = .;
  } :text

  . = ALIGN(PAGE_SIZE);
  .init.data : {
       *(.init.rodata)
       *(.init.rodata.*)

       . = ALIGN(POINTER_ALIGN);
       __setup_start = .;
       *(.init.setup)
       __setup_end = .;

       *(.init.data)
       *(.init.data.rel)
       *(.init.data.rel.*)
  } :text
  . = ALIGN(PAGE_SIZE);
  __init_end = .;

  .bss : {                     /* BSS */
       __bss_start = .;
       *(.bss.stack_aligned)
       *(.bss.page_aligned)
       PERCPU_BSS
       *(.bss .bss.*)
       . = ALIGN(POINTER_ALIGN);
       __bss_end = .;
  } :text
  _end = . ;

  DWARF2_DEBUG_SECTIONS

  DISCARD_SECTIONS

  ELF_DETAILS_SECTIONS
}

ASSERT(IS_ALIGNED(__init_begin, PAGE_SIZE), "__init_begin is misaligned")
ASSERT(IS_ALIGNED(__init_end, PAGE_SIZE), "__init_end is misaligned")
