/* Compiler attributes of the patchbot example tree. */
#ifndef __XEN_COMPILER_H__
#define __XEN_COMPILER_H__

#define __section(s)  __attribute__((__section__(s)))
#define __used        __attribute__((__used__))

#endif /* __XEN_COMPILER_H__ */
