"""Creates a pod through kvx's event-bus bridge and watches it until it runs.

usage: example_pod.py HOST PORT TOKEN_FILE [NAMESPACE]
"""
import sys
import time

from kvxbus import KvxBus

host, port, token_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
namespace = sys.argv[4] if len(sys.argv) > 4 else "default"
bus = KvxBus(host, port, open(token_file).read().strip())
name = "py-%d" % int(time.time())
watch = bus.watch("pods", namespace=namespace, query={"fieldSelector": "metadata.name=" + name})
pod = bus.request("create", "pods", namespace=namespace, body={
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
    "spec": {"terminationGracePeriodSeconds": 1,
             "containers": [{"name": "main", "image": "busybox", "command": ["sleep", "3600"]}]}})
print("created", pod["metadata"]["name"], "resourceVersion", pod["metadata"]["resourceVersion"])
for event in watch.events():
    phase = event["object"].get("status", {}).get("phase")
    print(event["type"], name, phase)
    if phase == "Running":
        break
watch.close()
bus.request("delete", "pods", namespace=namespace, name=name)
print("deleted", name)
bus.close()
