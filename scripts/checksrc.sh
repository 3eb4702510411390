#!/bin/sh
# Bans C library functions that are easy to misuse (curl's checksrc idea).
cd "$(dirname "$0")/.." || exit 1
bad=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atof|strtok)\s*\(' \
	src/*/*.c include/yoc/*.h 2>/dev/null)
if [ -n "$bad" ]; then
	echo "banned functions (use snprintf, strtol, explicit lengths):"
	echo "$bad"
	exit 1
fi
echo "checksrc: clean"
