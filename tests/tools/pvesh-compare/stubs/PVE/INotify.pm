package PVE::INotify;
# Scratch stub: the node name only.
use strict; use warnings;
sub nodename { $ENV{PVE_NODENAME} // 'pve1' }
1;
