# The Python sample client of the Restcomm Traces page (../shared/seeds/traces-api-docs.txt),
# as written there, except HTTPConnection to the API listener given on the command line:
#   python3 sample_client.py HOST PORT ACCOUNT_SID AUTH_TOKEN PATH
# Prints the status, the reason, the content type and the body, one per line.
import sys
from http.client import HTTPConnection
from base64 import b64encode

HOST, PORT, ACCOUNT_SID, AUTH_TOKEN, PATH = sys.argv[1:6]

userAndPass = b64encode(bytes(ACCOUNT_SID + ':' + AUTH_TOKEN, 'utf-8')).decode("ascii")
headers = { 'Authorization' : 'Basic %s' %  userAndPass }

conn = HTTPConnection(HOST, int(PORT))
conn.request("GET", PATH, headers=headers)
res = conn.getresponse()

print(res.status)
print(res.reason)
print(res.getheader('Content-Type'))
print(res.read().decode('utf-8'))
