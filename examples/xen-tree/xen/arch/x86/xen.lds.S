/* x86 linker script of the patchbot example tree (shaped like Xen's). */

#include <xen/cache.h>
#include <asm/page.h>

#ifndef EFI
# define DECL_SECTION_WITH_LADDR
#endif
#include <xen/xen.lds.h>

#undef ENTRY
#undef ALIGN

#define FORMAT "elf64-x86-64"
ENTRY(start_pa)

OUTPUT_FORMAT(FORMAT, FORMAT, FORMAT)
OUTPUT_ARCH(i386:x86-64)

PHDRS
{
  text PT_LOAD ;
  note PT_NOTE ;
}
#define PHDR(x) :x

SECTIONS
{
  . = __XEN_VIRT_START + XEN_IMG_OFFSET;
  _start = .;
  start_pa = ABSOLUTE(start - __XEN_VIRT_START);
  DECL_SECTION(.text) {
        _stext = .;            /* Text and read-only data */
       *(.text.header)

       *(.text.cold)
       *(.text.unlikely .text.*_unlikely .text.unlikely.*)

       *(.text)
#ifdef CONFIG_CC_SPLIT_SECTIONS
       *(.text.*)
#endif
       *(.text.__x86_indirect_thunk_*)

       *(.fixup)
       *(.gnu.warning)
       _etext = .;             /* End of text section */
  } PHDR(text) = 0x9090

  . = ALIGN(MB(2));
  __2M_text_end = .;

  DECL_SECTION(.rodata) {
       _srodata = .;
       . = ALIGN(PAGE_SIZE);
       BUGFRAMES

       *(.rodata)
       *(.rodata.*)
       *(.data.rel.ro)
       *(.data.rel.ro.*)
  } PHDR(text)

  DECL_SECTION(.note.gnu.build-id) {
       __note_gnu_build_id_start = .;
       *(.note.gnu.build-id)
       __note_gnu_build_id_end = .;
  } PHDR(note) PHDR(text)
  _erodata = .;

  . = ALIGN(PAGE_SIZE);
  __init_begin = .;
  DECL_SECTION(.init.text) {
       _sinittext = .;
       *(.init.text)
       _einittext = .;
  } PHDR(text)

  DECL_SECTION(.init.data) {
       *(.init.rodata)
       *(.init.rodata.*)

       . = ALIGN(POINTER_ALIGN);
       __setup_start = .;
       *(.init.setup)
       __setup_end = .;

       *(.init.data)
       *(.init.data.rel)
       *(.init.data.rel.*)
  } PHDR(text)
  . = ALIGN(MB(2));
  __init_end = .;

  . = ALIGN(SMP_CACHE_BYTES);
  DECL_SECTION(.data.read_mostly) {
       *(.data.read_mostly)
  } PHDR(text)

  DECL_SECTION(.data) {
       *(.data.page_aligned)
       *(.data .data.*)
  } PHDR(text)

  DECL_SECTION(.bss) {
       __bss_start = .;
       *(.bss.page_aligned*)
       PERCPU_BSS
       *(.bss .bss.*)
       . = ALIGN(POINTER_ALIGN);
       __bss_end = .;
  } PHDR(text)
  _end = . ;

  DWARF2_DEBUG_SECTIONS

  DISCARD_SECTIONS

  ELF_DETAILS_SECTIONS
}

ASSERT(_end <= XEN_VIRT_END - NR_CPUS * PAGE_SIZE, "Xen image overlaps the stubs")
ASSERT(IS_ALIGNED(_start, MB(2)), "_start misaligned")
ASSERT(IS_ALIGNED(__2M_text_end, MB(2)), "__2M_text_end misaligned")
