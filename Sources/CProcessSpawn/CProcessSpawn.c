#define _GNU_SOURCE
#include <spawn.h>
#include "CProcessSpawn.h"

int orchestrate_spawn_add_closefrom(void *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, lowest);
}

int orchestrate_spawn_add_chdir(void *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np((posix_spawn_file_actions_t *)actions, path);
}

short orchestrate_spawn_setsid_flag(void) {
    return POSIX_SPAWN_SETSID;
}
