package PVE::API2Tools;
# Scratch stub: resolve_proxyto as the real one decides for the mapping paths.
use strict; use warnings;
sub resolve_proxyto { my ($rpcenv, $cb, $proxyto, $param) = @_;
  my $node = $cb ? $cb->($rpcenv, $proxyto, $param) : $param->{$proxyto};
  return $node // "localhost"; }
1;
