# Shell helpers shared by bench/instructions.sh and bench/ab.sh (sourced, not run).

# A free TCP port on 127.0.0.1.
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# start_upstream_nginx <dir> <port>: the bench's fixed upstream (nginx `return 200` with a 100-byte
# body, keep-alive, no access log, one worker) on 127.0.0.1:<port>, pinned to core 1, daemonized
# with its pid in <dir>/nginx.pid (stop it with stop_upstream_nginx <dir>).
start_upstream_nginx() {
  local dir=$1 port=$2
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1; daemon on; pid $dir/nginx.pid; error_log $dir/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  server { listen 127.0.0.1:$port; keepalive_requests 1000000;
    location / { return 200 "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"; } } }
CONF
  taskset -c 1 nginx -c "$dir/nginx.conf" -p "$dir"
}

stop_upstream_nginx() {
  [ -f "$1/nginx.pid" ] && kill "$(cat "$1/nginx.pid")" 2>/dev/null || true
}
