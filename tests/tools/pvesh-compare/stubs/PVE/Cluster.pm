package PVE::Cluster;
# Scratch stub of pmxcfs file access only: files live under $ENV{PVE_ETC}.
use strict; use warnings;
use Storable qw(dclone);
use PVE::Tools;
use base 'Exporter';
our @EXPORT_OK = qw(cfs_lock_file cfs_read_file cfs_register_file cfs_write_file);
my $observed = {};
sub etc { $ENV{PVE_ETC} // die "PVE_ETC unset" }
sub cfs_register_file { my ($f, $p, $w) = @_; $observed->{$f} = { parser => $p, writer => $w }; }
sub get_config { my ($f) = @_; my $p = etc() . "/$f"; return undef if ! -e $p;
  open(my $fh, '<:raw', $p) or die; local $/; my $d = <$fh>; return $d; }  # raw bytes as ipcc returns them
sub cfs_read_file { my ($f) = @_; my $i = $observed->{$f} or die "unknown file '$f'";
  my $d = get_config($f); my $r = $i->{parser}->("/etc/pve/$f", $d); return ref($r) ? dclone($r) : $r; }
sub cfs_write_file { my ($f, $data, $force_utf8) = @_; my $i = $observed->{$f};
  my $raw = $i->{writer}->("/etc/pve/$f", $data);
  PVE::Tools::file_set_contents(etc() . "/$f", $raw, undef, $force_utf8); }
sub cfs_lock_file { my ($f, $t, $code, @p) = @_; my $res = eval { $code->(@p) }; my $err = $@;
  if ($err) { $@ = $err; return undef } $@ = undef; return $res; }
sub remote_node_ip { die "no proxying in this harness\n" }
sub check_cfs_quorum { 1 }
1;
