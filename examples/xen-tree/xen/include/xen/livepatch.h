/* Live patching interface of the patchbot example tree. */
#ifndef __XEN_LIVEPATCH_H__
#define __XEN_LIVEPATCH_H__

struct livepatch_func {
    const char *name;
    void *new_addr;
    void *old_addr;
    unsigned int new_size;
    unsigned int old_size;
};

/* The smallest function the architecture can patch. */
unsigned int arch_livepatch_min_size(const struct livepatch_func *func);

int livepatch_check_function(const struct livepatch_func *func);
void livepatch_boot_complete(void);

#endif /* __XEN_LIVEPATCH_H__ */
