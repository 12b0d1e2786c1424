package PVE::API2::Cluster::Mapping;
# scratch routing stub for the old guest-common (no Dir mapping): PCI only
use strict; use warnings;
use PVE::API2::Cluster::Mapping::PCI;
use base qw(PVE::RESTHandler);
__PACKAGE__->register_method({ subclass => "PVE::API2::Cluster::Mapping::PCI", path => 'pci' });
1;
