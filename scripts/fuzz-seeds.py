#!/usr/bin/env python3
# fuzz-seeds.py: writes the seed corpora of the server fuzz targets under
# internal/server/testdata/fuzz from the golden API transcript (IDs become
# the placeholders the targets expand) and from hand-picked bodies.
# Usage: python3 scripts/fuzz-seeds.py internal/server/testdata/fuzz
import json, os, re, sys
root = sys.argv[1]
os.makedirs(root, exist_ok=True)
def q(s):  # a Go interpreted string literal
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"': out.append('\\"')
        elif ch == '\\': out.append('\\\\')
        elif ch == '\n': out.append('\\n')
        elif ch == '\t': out.append('\\t')
        elif ch == '\r': out.append('\\r')
        elif o < 0x20 or o == 0x7f: out.append('\\x%02x' % o)
        else: out.append(ch)
    out.append('"')
    return ''.join(out)
def write(target, name, *vals):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    lines = ["go test fuzz v1"]
    for kind, v in vals:
        if kind == 'bytes': lines.append('[]byte(' + q(v) + ')')
        elif kind == 'string': lines.append('string(' + q(v) + ')')
        elif kind == 'uint8': lines.append('uint8(%d)' % v)
    open(os.path.join(d, name), 'w').write('\n'.join(lines) + '\n')

golden = open(os.path.join(root, '../golden/api_session.txt')).read().split('\n')
kinds = {'/v1/endpoints': 'FuzzEndpointRequest', '/v1/credentials': 'FuzzCredentialRequest', '/v1/monitors': 'FuzzMonitorRequest',
         '/v1/notification-channels': 'FuzzChannelRequest', '/v1/alert-thresholds': 'FuzzThresholdRequest'}
seen = {}
for i, line in enumerate(golden):
    m = re.match(r'^(POST|PUT) (/v1/[a-z-]+)', line)
    if m and m.group(2) in kinds and i + 1 < len(golden) and golden[i+1].startswith('{'):
        body = golden[i+1]
        body = re.sub(r'\bep_\d+\b', '$EP', body); body = re.sub(r'\bcred_\d+\b', '$CRED', body); body = re.sub(r'\bmon_\d+\b', '$MON', body)
        k = kinds[m.group(2)]
        if body in seen.setdefault(k, set()): continue
        seen[k].add(body)
        write(k, 'golden-%02d' % len(seen[k]), ('bytes', body))
extra = {
 'FuzzEndpointRequest': [
   '{"name":"tcp-db","url":"tcp://db.internal:5432"}',
   '{"name":"e","url":"https://e.example.com/","credential_id":"$CRED","data_classification":"confidential","tags":{"a":"b"}}',
   '{"name":"","url":""}', '{"name":"e","url":"ftp://x"}', '{"name":"e","url":"https://e.example.com/","tags":{"":"x"}}',
   '{"name":"e","url":"https://e.example.com/","revision":"1"}', '{"name":"e","url":"https://e.example.com/","created_at":"yesterday"}',
   '{"name":"e\\u202e","url":"https://e.example.com/"}', '[]', 'null', '{"name":"e"} {"name":"f"}', '{"name":1e999}',
   '{"name":"e","url":"https://user:planted@e.example.com/?token=x"}', '{"name":"e","url":"https://[::1]:0/"}',
 ],
 'FuzzCredentialRequest': [
   '{"name":"k","type":"api_key","header":"x-api-key","secret":"s","allowed_hosts":["api.example.com"],"rotation_period":"720h"}',
   '{"name":"k","type":"api_key","query_param":"key","secret":"s","allowed_hosts":["*.example.com"],"expires_at":"2027-01-02T03:04:05Z"}',
   '{"name":"b","type":"basic","username":"u","secret":"p","allowed_hosts":["*.example.com"]}',
   '{"name":"o","type":"oauth2_client_credentials","token_url":"https://auth.example.com/t","client_id":"c","scopes":["r","w"],"secret":"s","allowed_hosts":["*.example.com"]}',
   '{"name":"b","type":"bearer","secret":"","allowed_hosts":[]}', '{"name":"b","type":"nope","secret":"s"}',
   '{"name":"b","type":"bearer","secret":"s","allowed_hosts":["*"],"expires_at":"2026-13-40T00:00:00Z"}',
   '{"name":"b","type":"bearer","secret":"s","allowed_hosts":["a..b"],"rotation_period":"-1h"}',
   '{"name":"b","type":"bearer","secret_revision":3,"allowed_hosts":["*.example.com"]}',
 ],
 'FuzzMonitorRequest': [
   '{"name":"m","endpoint_id":"$EP","type":"http","interval":"30s","timeout":"5s","request":{"method":"POST","path":"/x","query":{"a":"b"},"headers":{"x-a":"1"},"body":"{}","follow_redirects":false,"credential_id":"$CRED","tls":{"insecure_skip_verify":true}},"assertions":[{"source":"json_body","property":"$.status","comparison":"equals","target":"ok"},{"source":"header","property":"content-type","comparison":"contains","target":"json"},{"source":"response_time","comparison":"less_than","target":"500ms"},{"source":"text_body","comparison":"matches","target":"^ok$"}],"retry_strategy":{"max_retries":2,"backoff":"1s"},"degraded_response_time":"300ms","tags":{"env":"prod"}}',
   '{"name":"m","endpoint_id":"$EP","type":"tcp"}',
   '{"name":"m","endpoint_id":"$EP","type":"http","assertions":[{"source":"json_body","property":"$[?@.a==1]","comparison":"is_empty"}]}',
   '{"name":"m","endpoint_id":"$EP","type":"http","assertions":[{"source":"json_body","property":"$..[","comparison":"equals","target":"x"}]}',
   '{"name":"m","endpoint_id":"$EP","type":"http","assertions":[{"source":"text_body","comparison":"matches","target":"(a"}]}',
   '{"name":"m","endpoint_id":"$EP","type":"http","interval":"0s","timeout":"1h"}',
   '{"name":"m","endpoint_id":"ep_nope","type":"http","request":{"credential_id":"cred_nope"}}',
   '{"name":"m","endpoint_id":"$EP","type":"http","request":{"headers":{"Authorization":"Bearer x"}}}',
   '{"name":"m","endpoint_id":"$EP","type":"http","retry_strategy":{"max_retries":-1}}',
 ],
 'FuzzChannelRequest': [
   '{"name":"s","type":"slack","secret":"https://hooks.slack.example/services/abc"}',
   '{"name":"p","type":"pagerduty","secret":"0123456789abcdef0123456789abcdef"}',
   '{"name":"e","type":"email","to":["a@example.com","b@example.com"]}',
   '{"name":"w","type":"webhook","url":"http://127.0.0.1:1/x","secret":"s","enabled":false}',
   '{"name":"w","type":"webhook","url":"not a url","secret":""}', '{"name":"e","type":"email","to":[]}',
   '{"name":"e","type":"email","to":["not-an-address"],"secret":"s"}', '{"name":"x","type":"carrier-pigeon"}',
 ],
 'FuzzThresholdRequest': [
   '{"name":"b","endpoint_id":"$EP","metric":"burn_rate","slo":{"objective_percent":99.9,"period":"720h"}}',
   '{"name":"t","monitor_id":"$MON","metric":"error_rate_percent","comparison":"above","warning":5,"critical":10,"window":"5m","pending_period":"1m","recovery_period":"2m","channel_ids":["$CHAN"]}',
   '{"name":"t","monitor_id":"$MON","endpoint_id":"$EP","metric":"availability","comparison":"below","critical":99,"window":"1h"}',
   '{"name":"t","monitor_id":"$MON","metric":"availability","comparison":"sideways","critical":"x","window":"-1h"}',
   '{"name":"t","monitor_id":"$MON","metric":"response_time_p95","comparison":"above","critical":1e308,"window":"2160h"}',
   '{"name":"b","endpoint_id":"$EP","metric":"burn_rate","slo":{"objective_percent":100,"period":"1s"}}',
 ],
}
for k, bodies in extra.items():
    for j, b in enumerate(bodies):
        write(k, 'seed-%02d' % (j + 1), ('bytes', b))
lists = [(0,'limit=2&name_prefix=fuzz','ep_01jabcdefghjkmnpqrstvwxyz0'),(1,'limit=0',''),(2,'endpoint_id=$EP&tag=env:prod','mon_'),
  (3,'name=fuzz-chan','chan_\x00'),(4,'monitor_id=$MON&metric=availability','thr_zzzzzzzzzzzzzzzzzzzzzzzzzz'),
  (5,'object_id=$EP&actor=test-editor&since=2026-13-01','aud_01'),(6,'state=pending&limit=1000','thr_x|critical'),
  (7,'threshold_id=$THR&severity=warning','evt_|'),(8,'status=pending&channel_id=$CHAN','del_%%'),(9,'limit=1001&from=x','2026-01-01T00:00:00Z'),
  (2,'tag=' + 'k:v&tag=' * 30 + 'k:v',''),(0,'name_prefix=%ff%fe','')]
for j, (w, qs, c) in enumerate(lists):
    write('FuzzListQuery', 'seed-%02d' % (j+1), ('uint8', w), ('string', qs), ('string', c))
for j, v in enumerate(['"1"', '"0"', '"-1"', '1', '"1", "2"', 'W/"1"', '"9223372036854775808"', '""', '*', '"\u00e9"']):
    write('FuzzIfMatch', 'seed-%02d' % (j+1), ('string', v))
