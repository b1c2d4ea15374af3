#include "processor.h"

const char *kcl_shutdown_reason_name(kcl_shutdown_reason r)
{
    switch (r) {
    case KCL_SHUTDOWN_TERMINATE: return "TERMINATE";
    case KCL_SHUTDOWN_ZOMBIE: return "ZOMBIE";
    case KCL_SHUTDOWN_REQUESTED: return "REQUESTED";
    }
    return "UNKNOWN";
}
