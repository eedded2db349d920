# common.sh - sourced by every stand-in: record the call, set up paths.
# MB_FB_ROOT is the fake root the agent works on, MB_FB_STATE a directory
# for the stand-ins' own state, MB_FB_CALLS the log of calls (one line per
# call: the program name and its arguments).
export PATH=/usr/bin:/bin
: "${MB_FB_ROOT:?}" "${MB_FB_STATE:?}" "${MB_FB_CALLS:?}"
prog=$(basename "$0")
printf '%s\n' "$prog $*" >>"$MB_FB_CALLS"
