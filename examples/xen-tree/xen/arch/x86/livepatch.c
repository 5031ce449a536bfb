/*
 * x86 side of live patching in the patchbot example tree.
 */
#include <xen/livepatch.h>

#include <asm/endbr.h>

/* A "jmp rel32" is written over the start of the old function. */
#define ARCH_PATCH_INSN_SIZE 5

unsigned int arch_livepatch_min_size(const struct livepatch_func *func)
{
    unsigned int size = ARCH_PATCH_INSN_SIZE;

    /* Leave the ENDBR64 at the start of the old function alone. */
    if ( IS_ENABLED(CONFIG_XEN_IBT) && is_endbr64(func->old_addr) )
        size += ENDBR64_LEN;

    return size;
}
