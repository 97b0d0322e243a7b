package io.kvx.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What pods get from the node agent, through the real kubectl: ConfigMap/Secret/downward API
 * volumes and env, the ServiceAccount token mount, init containers in order, readiness gating Ready,
 * a failing liveness probe restarting its container, and CreateContainerConfigError for missing input.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PodFeaturesIT {

  private static final String[] ARGS = {"up", "--cluster-port", "5861", "--secret", "it-podfeatures",
      "--node-name", "pf-node", "--bridge", "kvxt6", "--pod-cidr", "10.89.6.0/24", "--roles",
      "sequencer,apiserver,scheduler,controller-manager,node"};
  private static Path home;

  private static KvxProcess kvx;
  private static Kubectl kubectl;
  private static Path dir;

  @BeforeAll
  static void up() throws Exception {
    home = Files.createTempDirectory("kvx-it-podfeatures");
    dir = Files.createTempDirectory("kvx-it-podfeatures-files");
    KvxProcess.prepareBusybox(home);
    kvx = KvxProcess.start("podfeatures", home, 17497, ARGS);
    kvx.awaitReady(Duration.ofSeconds(60));
    kubectl = new Kubectl(kvx.kubeconfig());
    kubectl.await(Duration.ofSeconds(30), out -> out.contains(" Ready "), "get", "nodes");
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("default"), "get", "serviceaccounts");
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  /** Stops kvx (SIGTERM when graceful, else SIGKILL) and starts it again on the same home. */
  private static void restart(String logName, boolean graceful) throws Exception {
    if (graceful) kvx.stop();
    else kvx.kill();
    kvx = KvxProcess.start(logName, home, 17497, ARGS);
    kvx.awaitReady(Duration.ofSeconds(60));
  }

  private static void apply(String name, String yaml) throws Exception {
    Path p = dir.resolve(name + ".yaml");
    Files.writeString(p, yaml);
    kubectl.ok("apply", "-f", p.toString());
  }

  /** A JWT's aud claim (its only audience), an array as in kube's tokens, which also carry jti and nbf. */
  private static String audience(String jwt) {
    io.vertx.core.json.JsonObject claims = new io.vertx.core.json.JsonObject(new String(
        java.util.Base64.getUrlDecoder().decode(jwt.trim().split("\\.")[1]), java.nio.charset.StandardCharsets.UTF_8));
    assertTrue(claims.getValue("aud") instanceof io.vertx.core.json.JsonArray && claims.containsKey("jti")
        && claims.containsKey("nbf"), claims.encode());
    return claims.getJsonArray("aud").getString(0);
  }

  @Test
  @Order(1)
  void configurationVolumesAndInitContainers() throws Exception {
    kubectl.ok("create", "configmap", "appcfg", "--from-literal=greeting=hello");
    kubectl.ok("create", "secret", "generic", "appsec", "--from-literal=password=s3cret");
    kubectl.ok("create", "service", "clusterip", "web-svc", "--tcp=8080:80");
    apply("inputs", """
        apiVersion: v1
        kind: Pod
        metadata: {name: inputs, labels: {tier: web}}
        spec:
          terminationGracePeriodSeconds: 1
          initContainers:
          - {name: first, image: busybox, command: [sh, -c, 'echo first > /work/order'],
             volumeMounts: [{name: work, mountPath: /work}]}
          - {name: second, image: busybox, command: [sh, -c, 'echo second >> /work/order'],
             volumeMounts: [{name: work, mountPath: /work}]}
          containers:
          - name: main
            image: busybox
            command: [sh, -c, 'echo "G=$GREETING P=$PASS N=$MY_NS X=$X";
              echo "S=$WEB_SVC_SERVICE_HOST:$WEB_SVC_SERVICE_PORT:$WEB_SVC_SERVICE_PORT_8080_80 L=$WEB_SVC_PORT_8080_TCP_PROTO K=$KUBERNETES_PORT";
              cat /cfg/greeting /sec/password /info/labels /work/order;
              cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; wc -c < /var/run/secrets/kubernetes.io/serviceaccount/token;
              sleep 3600']
            env:
            - {name: GREETING, valueFrom: {configMapKeyRef: {name: appcfg, key: greeting}}}
            - {name: PASS, valueFrom: {secretKeyRef: {name: appsec, key: password}}}
            - {name: MY_NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
            - {name: X, value: "x-$(GREETING)"}
            - {name: WEB_SVC_SERVICE_PORT, value: own}
            volumeMounts:
            - {name: cfg, mountPath: /cfg}
            - {name: sec, mountPath: /sec, readOnly: true}
            - {name: info, mountPath: /info}
            - {name: work, mountPath: /work}
            - {name: vault, mountPath: /vault}
          volumes:
          - {name: vault, projected: {sources: [{serviceAccountToken: {audience: vault, path: token}}]}}
          - {name: cfg, configMap: {name: appcfg}}
          - {name: sec, secret: {secretName: appsec}}
          - {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
          - {name: work, emptyDir: {}}
        """);
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "inputs");
    String logs = kubectl.await(Duration.ofSeconds(20), out -> out.contains("second"), "logs", "inputs", "-c", "main");
    assertTrue(logs.contains("G=hello P=s3cret N=default X=x-hello"), logs);
    // The kubelet's service links (enableServiceLinks), a container's own env winning over them.
    assertTrue(java.util.regex.Pattern.compile("S=10\\.\\d+\\.\\d+\\.\\d+:own:8080 L=tcp K=tcp://10\\.96\\.0\\.1:443")
        .matcher(logs).find(), logs);
    assertTrue(logs.contains("hello") && logs.contains("s3cret") && logs.contains("tier=\"web\""), logs);
    assertTrue(logs.indexOf("first") < logs.indexOf("second"), "init containers ran in order: " + logs);
    String tokenLength = logs.lines().reduce((a, b) -> b).orElse("").trim();
    assertTrue(Integer.parseInt(tokenLength) > 100, "a ServiceAccount JWT is mounted: " + logs);
    // A running pod's configMap volume follows the ConfigMap (the kubelet's periodic sync; kvx's every 10 s).
    kubectl.ok("patch", "configmap", "appcfg", "--type=merge", "-p", "{\"data\":{\"greeting\":\"updated\"}}");
    kubectl.await(Duration.ofSeconds(40), out -> out.trim().equals("updated"), "exec", "inputs", "-c", "main", "--", "cat",
        "/cfg/greeting");
    // A projected token for another audience is issued for it (and so is no credential for the API).
    assertEquals("vault", audience(kubectl.ok("exec", "inputs", "-c", "main", "--", "cat", "/vault/token")));
    assertEquals("https://kubernetes.default.svc.cluster.local", audience(kubectl.ok("exec", "inputs", "-c", "main",
        "--", "cat", "/var/run/secrets/kubernetes.io/serviceaccount/token")));

    kubectl.ok("run", "missing", "--image=busybox", "--overrides",
        "{\"spec\":{\"containers\":[{\"name\":\"missing\",\"image\":\"busybox\",\"command\":[\"sleep\",\"3600\"],"
            + "\"env\":[{\"name\":\"A\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"nope\",\"key\":\"a\"}}}]}]}}");
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("CreateContainerConfigError"), "get", "pod", "missing");
    kubectl.ok("create", "configmap", "nope", "--from-literal=a=1");
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("Running"), "get", "pod", "missing");
  }

  @Test
  @Order(2)
  void probesGateReadinessAndRestartUnhealthyContainers() throws Exception {
    apply("probes", """
        apiVersion: v1
        kind: Pod
        metadata: {name: probes}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: web
            image: busybox
            command: [sh, -c, 'sleep 6; mkdir -p /www; echo ok > /www/healthz; exec httpd -f -p 8080 -h /www']
            ports: [{name: http, containerPort: 8080}]
            readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1}
          - name: dies
            image: busybox
            command: [sh, -c, 'touch /tmp/alive; sleep 3; rm /tmp/alive; sleep 3600']
            livenessProbe: {exec: {command: [cat, /tmp/alive]}, periodSeconds: 1, failureThreshold: 2}
        """);
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("Running"), "get", "pod", "probes");
    String early = kubectl.ok("get", "pod", "probes", "-o", "jsonpath={.status.containerStatuses[?(@.name==\"web\")].ready}");
    assertTrue(early.contains("false"), "not ready before the readiness probe passes: " + early);
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("true"), "get", "pod", "probes", "-o",
        "jsonpath={.status.containerStatuses[?(@.name==\"web\")].ready}");
    kubectl.await(Duration.ofSeconds(40), out -> !out.trim().equals("0") && !out.isBlank(), "get", "pod", "probes",
        "-o", "jsonpath={.status.containerStatuses[?(@.name==\"dies\")].restartCount}");
    String events = kubectl.ok("describe", "pod", "probes");
    assertTrue(events.contains("Unhealthy") && events.contains("Liveness probe failed"), events);
    // each failure says why (an exec probe's output), and repeats are counted, as the kubelet's events
    assertTrue(events.contains("Liveness probe failed: cat: can't open '/tmp/alive'"), events);
  }

  @Test
  @Order(3)
  void kubectlTopReadsCgroupUsage() throws Exception {
    kubectl.ok("run", "burner", "--image=busybox", "--", "sh", "-c", "while true; do :; done");
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "burner");
    String nodes = kubectl.ok("top", "node");
    assertTrue(nodes.contains("pf-node") && nodes.contains("CPU(cores)"), nodes);
    String pods = kubectl.await(Duration.ofSeconds(20), out -> out.lines().anyMatch(l -> l.startsWith("burner ")
        && Integer.parseInt(l.trim().split("\\s+")[1].replace("m", "")) > 100), "top", "pod");
    assertTrue(pods.contains("MEMORY(bytes)"), pods);
    // The kubelet endpoints people read through nodes/proxy.
    String summary = kubectl.ok("get", "--raw", "/api/v1/nodes/pf-node/proxy/stats/summary");
    assertTrue(summary.contains("\"nodeName\":\"pf-node\"") && summary.contains("\"name\":\"burner\""), summary);
    assertTrue(kubectl.ok("get", "--raw", "/api/v1/nodes/pf-node/proxy/healthz").trim().equals("ok"));
    assertTrue(kubectl.ok("get", "--raw", "/api/v1/nodes/pf-node/proxy/pods").contains("\"name\":\"burner\""));
    kubectl.ok("delete", "pod", "burner", "--grace-period=1");
  }

  @Test
  @Order(4)
  void aRestartedAgentAdoptsRunningContainers() throws Exception {
    kubectl.ok("run", "survivor", "--image=busybox", "--", "sh", "-c", "echo up; sleep 3600");
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Running"), "get", "pod", "survivor");
    String jsonpath = "jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}"
        + " {.status.podIP}";
    String before = kubectl.ok("get", "pod", "survivor", "-o", jsonpath).trim();
    restart("podfeatures-2", false);
    kvx.awaitLog("adopted pod default/survivor", Duration.ofSeconds(30));
    Thread.sleep(3000);
    String after = kubectl.ok("get", "pod", "survivor", "-o", jsonpath).trim();
    assertTrue(before.equals(after), "same container, same restart count, same IP: " + before + " / " + after);
    assertTrue(kubectl.ok("get", "pod", "survivor").contains("Running"));
  }

  @Test
  @Order(5)
  void startupProbesHoldBackLivenessAndTcpProbesWatchThePort() throws Exception {
    apply("slowstart", """
        apiVersion: v1
        kind: Pod
        metadata: {name: slowstart}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: app
            image: busybox
            command: [sh, -c, 'sleep 5; httpd -p 9000 -h /tmp; touch /tmp/started; exec sleep 3600']
            startupProbe: {exec: {command: [cat, /tmp/started]}, periodSeconds: 1, failureThreshold: 30}
            livenessProbe: {tcpSocket: {port: 9000}, periodSeconds: 1, failureThreshold: 1}
            readinessProbe: {tcpSocket: {port: 9000}, periodSeconds: 1}
          - name: neverstarts
            image: busybox
            command: [sleep, '3600']
            startupProbe: {tcpSocket: {port: 9001}, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 2}
        """);
    String c = ".status.containerStatuses[?(@.name==\"app\")]";
    String app = "jsonpath={" + c + ".started} {" + c + ".ready} {" + c + ".restartCount}";
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("Running"), "get", "pod", "slowstart");
    String early = kubectl.ok("get", "pod", "slowstart", "-o", app).trim();
    assertTrue(early.startsWith("false false"), "neither started nor ready before the startup probe passes: " + early);
    // A liveness probe on a closed port would have restarted it at once; the startup probe held it back.
    kubectl.await(Duration.ofSeconds(30), out -> out.trim().equals("true true 0"), "get", "pod", "slowstart", "-o", app);
    kubectl.await(Duration.ofSeconds(30), out -> !out.trim().equals("0") && !out.isBlank(), "get", "pod", "slowstart",
        "-o", "jsonpath={.status.containerStatuses[?(@.name==\"neverstarts\")].restartCount}");
    String described = kubectl.ok("describe", "pod", "slowstart");
    assertTrue(described.contains("Startup probe failed"), described);
    // The port closes: the tcpSocket liveness probe restarts the container, which then starts (slowly) again.
    kubectl.ok("exec", "slowstart", "-c", "app", "--", "killall", "httpd");
    kubectl.await(Duration.ofSeconds(30), out -> out.trim().startsWith("false false 1")
        || out.trim().startsWith("true false 1"), "get", "pod", "slowstart", "-o", app);
    kubectl.await(Duration.ofSeconds(30), out -> out.trim().equals("true true 1"), "get", "pod", "slowstart", "-o", app);
    assertTrue(kubectl.ok("describe", "pod", "slowstart").contains("Liveness probe failed"));
    kubectl.ok("delete", "pod", "slowstart", "--grace-period=1");
  }

  @Test
  @Order(6)
  void onFailureRestartsOnlyFailedContainersAndLogsHonourSince() throws Exception {
    apply("onfailure", """
        apiVersion: v1
        kind: Pod
        metadata: {name: onfailure}
        spec:
          restartPolicy: OnFailure
          volumes: [{name: data, emptyDir: {}}]
          containers:
          - name: task
            image: busybox
            volumeMounts: [{name: data, mountPath: /data}]
            command: [sh, -c, 'echo run; if [ -f /data/once ]; then exit 0; fi; touch /data/once; exit 3']
        """);
    // Exit 3 is restarted under OnFailure; the second run exits 0, which is not: the pod ends Succeeded.
    String out = kubectl.await(Duration.ofSeconds(60), o -> o.trim().startsWith("Succeeded"), "get", "pod", "onfailure",
        "-o", "jsonpath={.status.phase} {.status.containerStatuses[0].restartCount}"
            + " {.status.containerStatuses[0].lastState.terminated.exitCode}"
            + " {.status.containerStatuses[0].state.terminated.reason}");
    assertTrue(out.trim().equals("Succeeded 1 3 Completed"), out);
    Thread.sleep(3000);
    assertTrue(kubectl.ok("logs", "onfailure", "--since=1h").contains("run"));
    String recent = kubectl.ok("logs", "onfailure", "--since=2s");
    assertTrue(recent.isBlank(), "nothing was written in the last 2 s: " + recent);
    assertTrue(kubectl.ok("logs", "onfailure", "--previous").contains("run"));
  }

  @Test
  @Order(7)
  void describeServiceShowsEndpointsOfAnUnnamedPort() throws Exception {
    kubectl.ok("run", "exposed", "--image=busybox", "--port=8080", "--expose", "--",
        "sh", "-c", "mkdir -p /www; echo proxied > /www/index.html; exec httpd -f -p 8080 -h /www");
    String ip = kubectl.await(Duration.ofSeconds(60), out -> !out.isBlank(), "get", "pod", "exposed", "-o",
        "jsonpath={.status.podIP}").trim();
    // kubectl reads the EndpointSlices' port names (pointers in its types) to print this line.
    kubectl.await(Duration.ofSeconds(30), out -> out.contains("Endpoints:") && out.contains(ip + ":8080"),
        "describe", "service", "exposed");
    // pods/proxy and services/proxy, as `kubectl get --raw` (and kubectl proxy's users) reach them.
    assertTrue(kubectl.ok("get", "--raw", "/api/v1/namespaces/default/pods/exposed:8080/proxy/index.html")
        .contains("proxied"));
    assertTrue(kubectl.ok("get", "--raw", "/api/v1/namespaces/default/services/exposed/proxy/").contains("proxied"));
    assertTrue(kubectl.ok("get", "--raw", "/api/v1/namespaces/default/services/exposed:8080/proxy/index.html?x=1")
        .contains("proxied"));
    Kubectl.Result missing = kubectl.run("get", "--raw", "/api/v1/namespaces/default/services/exposed/proxy/nothing-here");
    assertTrue(missing.code() != 0 && missing.out().contains("NotFound"), missing.out());
    kubectl.ok("delete", "pod,service", "exposed", "--grace-period=1");
  }

  /** Why a container ended, as the kubelet reports it: its termination message file, or its log's end on error. */
  @Test
  @Order(7)
  void terminationMessagesComeFromTheFileOrTheLogsEnd() throws Exception {
    apply("ended", """
        apiVersion: v1
        kind: Pod
        metadata: {name: ended}
        spec:
          restartPolicy: Never
          hostname: custom-host
          subdomain: sub
          volumes:
          - {name: mem, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
          containers:
          - {name: named, image: busybox, command: [sh, -c, 'hostname; cat /etc/hosts; grep " /m " /proc/mounts'],
             volumeMounts: [{name: mem, mountPath: /m}]}
          - {name: file, image: busybox, command: [sh, -c, 'echo custom-msg > /dev/termination-log; exit 2']}
          - {name: path, image: busybox, terminationMessagePath: /tmp/why,
             command: [sh, -c, 'echo elsewhere > /tmp/why']}
          - {name: logs, image: busybox, terminationMessagePolicy: FallbackToLogsOnError,
             command: [sh, -c, 'echo first; echo last words; exit 3']}
        """);
    // kubectl's STATUS shows the first container's reason (Completed); the pod failed
    kubectl.await(Duration.ofSeconds(60), out -> out.equals("Failed"), "get", "pod", "ended", "-o",
        "jsonpath={.status.phase}");
    String messages = kubectl.await(Duration.ofSeconds(20), out -> out.contains("custom-msg")
        && out.contains("elsewhere") && out.contains("last words"), "get", "pod", "ended", "-o",
        "jsonpath={range .status.containerStatuses[*]}{.name}={.state.terminated.message}|{end}");
    assertTrue(messages.contains("file=custom-msg\n|"), messages);
    assertTrue(messages.contains("path=elsewhere\n|"), messages);
    assertTrue(messages.contains("logs=first\nlast words\n|"), messages);
    // spec.hostname and spec.subdomain name the pod inside, its fully qualified name first in /etc/hosts
    String named = kubectl.ok("logs", "ended", "-c", "named");
    assertTrue(named.startsWith("custom-host\n"), named);
    assertTrue(named.contains("\tcustom-host.sub.default.svc.cluster.local\tcustom-host\n"), named);
    // an emptyDir of medium Memory is a tmpfs of its sizeLimit
    assertTrue(named.contains("tmpfs /m tmpfs") && named.contains("size=16384k"), named);
    kubectl.ok("delete", "pod", "ended", "--grace-period=1");
  }

  @Test
  @Order(7)
  void sidecarsStartBeforeTheContainersAndStopAfterThem() throws Exception {
    // A Job-like pod: the sidecar (an init container with restartPolicy Always) starts, the next init container and
    // the main container run while it does, and once the main container is done the sidecar is stopped and the pod
    // succeeds.
    apply("sidecar", """
        apiVersion: v1
        kind: Pod
        metadata: {name: sidecar}
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 2
          volumes: [{name: shared, emptyDir: {}}]
          initContainers:
          - {name: side, image: busybox, restartPolicy: Always, volumeMounts: [{name: shared, mountPath: /s}],
             command: [sh, -c, 'echo up > /s/side; exec sleep 3600'],
             readinessProbe: {exec: {command: [cat, /s/side]}, periodSeconds: 1}}
          - {name: after, image: busybox, volumeMounts: [{name: shared, mountPath: /s}], command: [cat, /s/side]}
          containers:
          - {name: main, image: busybox, command: [sh, -c, 'sleep 4; echo main done']}
        """);
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("2/2") && out.contains("Running"), "get", "pod",
        "sidecar");
    assertEquals("up\n", kubectl.ok("logs", "sidecar", "-c", "after"));
    kubectl.await(Duration.ofSeconds(60), out -> out.equals("Succeeded"), "get", "pod", "sidecar", "-o",
        "jsonpath={.status.phase}");
    String side = kubectl.ok("get", "pod", "sidecar", "-o",
        "jsonpath={.status.initContainerStatuses[0].state.terminated.reason} {.status.initContainerStatuses[0].restartCount}");
    assertTrue(side.startsWith("Error 0") || side.startsWith("Completed 0"), side);
    kubectl.ok("delete", "pod", "sidecar", "--grace-period=1");
  }

  @Test
  @Order(8)
  void anEndedPodNeverRunsAgainAfterARestart() throws Exception {
    kubectl.ok("run", "finished", "--restart=Never", "--image=busybox", "--", "echo", "done");
    kubectl.await(Duration.ofSeconds(60), out -> out.contains("Completed"), "get", "pod", "finished");
    restart("podfeatures-3", true);
    kvx.awaitLog("pod default/finished assigned", Duration.ofSeconds(30));
    Thread.sleep(3000);
    String log = Files.readString(kvx.log);
    assertTrue(!log.contains("started default/finished"), "a Succeeded pod was started again:\n" + log);
    assertTrue(kubectl.ok("get", "pod", "finished", "-o", "jsonpath={.status.phase}").equals("Succeeded"));
  }
}
