/* hiredis, as Swift sees it. redisCommandArgv is not variadic and needs no wrapper. */
#ifndef FLOWSPOOL_CHIREDIS_SHIM_H
#define FLOWSPOOL_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>

#endif
