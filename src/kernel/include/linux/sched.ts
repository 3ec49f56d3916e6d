// struct task_struct's fields (include/linux/sched.h), as word offsets of a task_struct record.
// Here, not in kernel/fork.ts, so that the scheduler and the time accounting can read a task
// without importing fork (which imports the scheduler).

export const T_PID = 0;
export const T_TGID = 1;
export const T_REAL_PARENT = 2;
export const T_GROUP_LEADER = 3;
export const T_MM = 4; // 0 for a kernel thread
export const T_NR_THREADS = 5; // on the group leader: live threads in the group
export const T_PERF_EVENTS = 6; // perf_event_ctxp: the first event of the task's context
export const T_EXIT_STATE = 7; // 0 alive, EXIT_ZOMBIE after do_exit
export const T_EXIT_CODE = 8;
export const T_FILES = 9; // files_struct: the open file table (0 until the task opens a file)
export const TASK_STRUCT_SIZE = 48;
