/* ppc linker script of the patchbot example tree (shaped like Xen's). */

#include <xen/cache.h>
#include <asm/page.h>

#define DECL_SECTION_WITH_LADDR
#include <xen/xen.lds.h>

#undef ENTRY
#undef ALIGN

OUTPUT_ARCH(powerpc:common64)
ENTRY(start)

PHDRS
{
    text PT_LOAD ;
#if defined(BUILD_ID)
    note PT_NOTE ;
#endif
}

SECTIONS
{
    . = XEN_VIRT_START;
    _start = .;

    DECL_SECTION(.text) {
        _stext = .;            /* Text section */
        *(.text.header)

        . = ALIGN(256);
        _stext_exceptions = .;
        *(.text.exceptions)

        *(.text.cold)
        *(.text.unlikely .text.*_unlikely .text.unlikely.*)

        *(.text)
#ifdef CONFIG_CC_SPLIT_SECTIONS
        *(.text.*)
#endif

        *(.fixup)
        *(.gnu.warning)
        . = ALIGN(POINTER_ALIGN);
        _etext = .;             /* End of text section */
    } :text

    . = ALIGN(PAGE_SIZE);
    DECL_SECTION(.rodata) {
        _srodata = .;          /* Read-only data */
        BUGFRAMES
        *(.rodata)
        *(.rodata.*)
        *(.data.rel.ro)
        *(.data.rel.ro.*)
        . = ALIGN(POINTER_ALIGN);
    } :text
    _erodata = .;

    . = ALIGN(PAGE_SIZE);
    DECL_SECTION(.data) {
        *(.data.page_aligned)
        *(.data.read_mostly)
        *(.data .data.*)
        CONSTRUCTORS
    } :text

    DECL_SECTION(.got) {
        *(.got .toc)
    } :text

    . = ALIGN(PAGE_SIZE);
    __init_begin = .;
    DECL_SECTION(.init.text) {
        _sinittext = .;
        *(.init.text)
        _einittext = .;
    } :text

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
    } :text
    . = ALIGN(PAGE_SIZE);
    __init_end = .;

    DECL_SECTION(.bss) {
        . = ALIGN(POINTER_ALIGN);
        __bss_start = .;
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

ASSERT(IS_ALIGNED(_start, PAGE_SIZE), "_start misaligned")
ASSERT(_end - _start <= 16 * 1024 * 1024, "Xen too large")
