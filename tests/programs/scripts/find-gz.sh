# find over a big host tree, counted.
find /usr/share -name '*.gz' | wc -l
