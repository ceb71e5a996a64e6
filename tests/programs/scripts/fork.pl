use strict;
my @kids;
for my $i (1 .. 5) {
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) { exit $i; }
    push @kids, $pid;
}
my $sum = 0;
for my $pid (@kids) { waitpid($pid, 0); $sum += $? >> 8; }
print "sum of exit codes: $sum\n";
pipe(my $r, my $w) or die;
if (my $pid = fork()) { close $w; my $line = <$r>; waitpid($pid, 0); print "from child: $line"; }
else { close $r; print $w "hello\n"; exit 0; }
