/* riscv linker script of the patchbot example tree (shaped like Xen's). */

#include <xen/cache.h>
#include <xen/xen.lds.h>
#include <asm/page.h>

#undef ENTRY
#undef ALIGN

OUTPUT_ARCH(riscv)
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
    .text : {
        _stext = .;            /* Text section */
        *(.text.header)

        *(.text.cold)
        *(.text.unlikely .text.*_unlikely .text.unlikely.*)

        *(.text)
#ifdef CONFIG_CC_SPLIT_SECTIONS
        *(.text.*)
#endif

        . = ALIGN(IDENT_AREA_SIZE);
        _ident_start = .;
        *(.ident.text)
        _ident_end = .;

        *(.fixup)
        *(.gnu.warning)
        . = ALIGN(POINTER_ALIGN);
        _etext = .;             /* End of text section */
    } :text

    . = ALIGN(PAGE_SIZE);
    .rodata : {
        _srodata = .;          /* Read-only data */
        BUGFRAMES
        *(.rodata)
        *(.rodata.*)
        *(.data.rel.ro)
        *(.data.rel.ro.*)
        . = ALIGN(POINTER_ALIGN);
    } :text

#if defined(BUILD_ID)
    . = ALIGN(4);
    .note.gnu.build-id : {
        __note_gnu_build_id_start = .;
        *(.note.gnu.build-id)
        __note_gnu_build_id_end = .;
    } :note :text
#endif
    _erodata = .;

    . = ALIGN(PAGE_SIZE);
    .data : {
        *(.data.page_aligned)
        *(.data.read_mostly)
        *(.data .data.*)
        *(.sdata .sdata.*)
        CONSTRUCTORS
    } :text

    . = ALIGN(PAGE_SIZE);
    __init_begin = .;
    .init.text : {
        _sinittext = .;
        *(.init.text)
        _einittext = .;
    } :text

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

    .bss : {
        . = ALIGN(POINTER_ALIGN);
        __bss_start = .;
        PERCPU_BSS
        *(.sbss .sbss.* .bss .bss.*)
        . = ALIGN(POINTER_ALIGN);
        __bss_end = .;
    } :text
    _end = . ;

    DWARF2_DEBUG_SECTIONS
    DISCARD_SECTIONS
    ELF_DETAILS_SECTIONS
}

ASSERT(_ident_end - _ident_start <= IDENT_AREA_SIZE, "identity mapped code is too large")
ASSERT(_end - _start <= MB(2), "Xen too large for early-boot assumptions")
