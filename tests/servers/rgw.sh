#!/usr/bin/env bash
# A single-node Ceph RGW (S3 API) on loopback for the object-storage tests: memstore, cephx,
# HTTP and HTTPS endpoints. Facts and recipe: ../shared/OBJECT-STORE.md section 1.
#   tests/servers/rgw.sh start DIR   -> installs Debian's packages if missing, starts mon+osd+rgw,
#                                       writes DIR/env (endpoints, credentials, CA bundle)
#   tests/servers/rgw.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}; dir=$(realpath -m "${2:?scratch dir}")
HTTP_PORT=${RGW_HTTP_PORT:-17480}; HTTPS_PORT=${RGW_HTTPS_PORT:-17443}

stop() {
  # rgw first, then the osd, then the mon (rgw hangs on shutdown once the mon is gone);
  # each gets 10 s to exit, then SIGKILL, so that the ports are free for the next start
  for pattern in "radosgw.*--conf $dir/ceph.conf" "ceph-osd.*--conf $dir/ceph.conf" "ceph-mon.*--conf $dir/ceph.conf"; do
    pkill -f "$pattern" 2>/dev/null || true
    for _ in $(seq 1 50); do pgrep -f "$pattern" >/dev/null || break; sleep 0.2; done
    pkill -9 -f "$pattern" 2>/dev/null || true
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi

if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq radosgw ceph-mon ceph-osd ceph-common openssl >/dev/null
fi

stop
rm -rf "$dir"; mkdir -p "$dir"/{run,log,mon/ceph-a,osd/ceph-0}
fsid=$(cat /proc/sys/kernel/random/uuid)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
cat "$dir/key.pem" "$dir/cert.pem" > "$dir/rgw.pem"
cat > "$dir/ceph.conf" <<CONF
[global]
fsid = $fsid
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
mon_host = [v2:127.0.0.1:${MON_V2_PORT:-13300},v1:127.0.0.1:${MON_V1_PORT:-16789}]
public_addr = 127.0.0.1
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_crush_chooseleaf_type = 0
osd_objectstore = memstore
memstore_device_bytes = 4294967296
run_dir = $dir/run
log_file = $dir/log/\$name.log
admin_socket = $dir/run/\$name.asok
pid_file = $dir/run/\$name.pid
mon_data = $dir/mon/\$cluster-\$id
osd_data = $dir/osd/\$cluster-\$id
keyring = $dir/\$name.keyring
mon_warn_on_pool_no_redundancy = false
[client.rgw]
rgw_frontends = beast endpoint=127.0.0.1:$HTTP_PORT ssl_endpoint=127.0.0.1:$HTTPS_PORT ssl_certificate=$dir/rgw.pem
rgw_gc_obj_min_wait = 5
rgw_gc_processor_period = 5
CONF
C="--conf $dir/ceph.conf"
ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$dir/client.admin.keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
ceph-authtool --create-keyring "$dir/osd.0.keyring" --gen-key -n osd.0 \
  --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
ceph-authtool --create-keyring "$dir/client.rgw.keyring" --gen-key -n client.rgw \
  --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
cp "$dir/mon.keyring" "$dir/all.keyring"
for k in client.admin osd.0 client.rgw; do ceph-authtool "$dir/all.keyring" --import-keyring "$dir/$k.keyring" >/dev/null; done
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:${MON_V2_PORT:-13300},v1:127.0.0.1:${MON_V1_PORT:-16789}]" "$dir/monmap" >/dev/null
ceph-mon $C --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/all.keyring" >/dev/null 2>&1
ceph-mon $C -i a
ceph $C -n client.admin --keyring "$dir/client.admin.keyring" osd create >/dev/null
ceph-osd $C -i 0 --mkfs --keyring "$dir/osd.0.keyring" >/dev/null 2>&1
ceph-osd $C -i 0 --keyring "$dir/osd.0.keyring"
radosgw $C -n client.rgw --keyring "$dir/client.rgw.keyring"
access=hubtooltest$RANDOM; secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
for i in $(seq 1 60); do
  if curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/"; then break; fi
  sleep 1
done
radosgw-admin $C -n client.admin --keyring "$dir/client.admin.keyring" user create --uid test \
  --display-name test --access-key "$access" --secret-key "$secret" >/dev/null
cat > "$dir/env" <<ENV
HUBTOOL_RGW_ENDPOINT=http://127.0.0.1:$HTTP_PORT
HUBTOOL_RGW_HTTPS_ENDPOINT=https://127.0.0.1:$HTTPS_PORT
HUBTOOL_RGW_CA_BUNDLE=$dir/cert.pem
HUBTOOL_RGW_ACCESS_KEY=$access
HUBTOOL_RGW_SECRET_KEY=$secret
ENV
echo "rgw ready: http://127.0.0.1:$HTTP_PORT https://127.0.0.1:$HTTPS_PORT ($dir/env)"
