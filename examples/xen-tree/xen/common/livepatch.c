/*
 * Live patching core of the patchbot example tree.  Not a working
 * implementation: just enough C for example series to touch.
 */
#include <xen/cache.h>
#include <xen/livepatch.h>

/* Cleared once the payloads applied at boot are in place. */
static bool __ro_after_init livepatch_boot_done;

static unsigned int __read_mostly livepatch_payloads;

int livepatch_check_function(const struct livepatch_func *func)
{
    if ( func->old_size < arch_livepatch_min_size(func) )
        return -EINVAL;

    if ( !func->new_addr && func->new_size )
        return -EINVAL;

    return 0;
}

void livepatch_boot_complete(void)
{
    livepatch_boot_done = true;
    livepatch_payloads = 0;
}
