package PVE::API2::Cluster;
use strict; use warnings;
use PVE::RESTHandler; use PVE::API2::Cluster::Mapping;
use base qw(PVE::RESTHandler);
__PACKAGE__->register_method({ subclass => "PVE::API2::Cluster::Mapping", path => 'mapping' });
1;
