#ifndef C_PROCESS_SPAWN_H
#define C_PROCESS_SPAWN_H

// glibc's GNU extensions to posix_spawn, which Swift's Glibc module does not expose.
// The actions pointer is a posix_spawn_file_actions_t *.
int orchestrate_spawn_add_closefrom(void *actions, int lowest);
int orchestrate_spawn_add_chdir(void *actions, const char *path);
short orchestrate_spawn_setsid_flag(void);

#endif
