/*
 * Hypercall and exception entry points of the patchbot example tree.
 * They live in their own section so that the x86 linker script can place
 * them together.
 */
        .section .text.entry, "ax", @progbits

ENTRY(entry_int80)
        endbr64
        pushq $0
        jmp   handle_exception

ENTRY(handle_exception)
        endbr64
        cld
        jmp   restore_all_guest
