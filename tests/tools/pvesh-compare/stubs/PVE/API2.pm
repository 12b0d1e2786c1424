package PVE::API2;
# Scratch stub of the routing down to /cluster/mapping.
use strict; use warnings;
use PVE::RESTHandler; use PVE::API2::Cluster;
use base qw(PVE::RESTHandler);
__PACKAGE__->register_method({ subclass => "PVE::API2::Cluster", path => 'cluster' });
1;
