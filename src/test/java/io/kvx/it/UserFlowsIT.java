package io.kvx.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Everyday workflows of a kubectl user against `kvx up` with a real node (runc and CNI when root),
 * checked against what a kube-apiserver and kubelet show for the same commands.
 */
class UserFlowsIT {

  private static KvxProcess kvx;
  private static Kubectl kubectl;

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-users");
    KvxProcess.prepareBusybox(home);
    kvx = KvxProcess.start("users", home, 18610, "up", "--cluster-port", "6011", "--secret", "it-users",
        "--node-name", "users-node", "--bridge", "kvxu1", "--pod-cidr", "10.234.200.0/24",
        "--roles", "sequencer,apiserver,scheduler,controller-manager,node");
    kvx.awaitReady(Duration.ofSeconds(60));
    kubectl = new Kubectl(kvx.kubeconfig());
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  /** Writes {@code yaml} to a file and `kubectl apply -f`s it; returns the file's path. */
  private static String apply(String yaml) throws Exception {
    Path manifest = Files.createTempFile("manifest", ".yaml");
    Files.writeString(manifest, yaml);
    kubectl.ok("apply", "-f", manifest.toString());
    return manifest.toString();
  }

  @Test
  void kubeletRecordsCreatedStartedAndKillingForEachContainer() throws Exception {
    kubectl.ok("run", "evented", "--image=busybox", "--", "sleep", "3600");
    kubectl.ok("wait", "--for=condition=Ready", "pod/evented", "--timeout=60s");
    String events = kubectl.await(Duration.ofSeconds(20), out -> out.contains("Started"),
        "get", "events", "--field-selector", "involvedObject.name=evented", "-o", "wide");
    assertTrue(events.contains("Created container: evented"), events);
    assertTrue(events.contains("Started container evented"), events);
    // The container is the events' subobject, as the kubelet's.
    assertTrue(events.contains("spec.containers{evented}"), events);
    kubectl.ok("delete", "pod", "evented", "--grace-period=1", "--wait=false");
    String killing = kubectl.await(Duration.ofSeconds(20), out -> out.contains("Killing"),
        "get", "events", "--field-selector", "involvedObject.name=evented");
    assertTrue(killing.contains("Stopping container evented"), killing);
  }

  @Test
  void serverDryRunShowsTheGenerationAndSystemFieldsAWriteWouldSet() throws Exception {
    // kubectl diff shows these: a dry-run create carries uid, creationTimestamp and generation 1 (no
    // resourceVersion), a dry-run spec change the next generation.
    String created = kubectl.ok("create", "deployment", "dry", "--image=busybox", "--dry-run=server", "-o",
        "jsonpath={.metadata.generation}|{.metadata.uid}|{.metadata.creationTimestamp}|{.metadata.resourceVersion}");
    assertTrue(created.matches("1\\|[0-9a-f-]{36}\\|\\d{4}-.*Z\\|"), created);
    kubectl.ok("create", "deployment", "dry", "--image=busybox", "--replicas=0");
    String patched = kubectl.ok("patch", "deployment", "dry", "--type=merge", "-p", "{\"spec\":{\"replicas\":2}}",
        "--dry-run=server", "-o", "jsonpath={.metadata.generation} {.spec.replicas}");
    assertEquals("2 2", patched);
    assertEquals("1 0", kubectl.ok("get", "deployment", "dry", "-o", "jsonpath={.metadata.generation} {.spec.replicas}"));
    kubectl.ok("delete", "deployment", "dry");
  }

  @Test
  void aContainerWithTtyRunsOnATerminal() throws Exception {
    // kubectl run -it makes such a pod: the shell then sees a terminal (prompt, job control) and TERM.
    apply("""
        apiVersion: v1
        kind: Pod
        metadata: {name: ttybox}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - {name: c, image: busybox, stdin: true, tty: true, command: ["sh", "-c", "tty; echo term=$TERM; sleep 3600"]}
        """);
    String logs = kubectl.await(Duration.ofSeconds(60), out -> out.contains("term="), "logs", "ttybox");
    assertTrue(logs.contains("/dev/pts/"), logs);
    assertTrue(logs.contains("term=xterm"), logs);
    kubectl.ok("delete", "pod", "ttybox", "--grace-period=1");
  }

  @Test
  void aPodMountsItsServiceAccountThroughTheKubeApiAccessVolume() throws Exception {
    kubectl.ok("run", "account", "--image=busybox", "--", "sleep", "3600");
    kubectl.ok("wait", "--for=condition=Ready", "pod/account", "--timeout=60s");
    assertEquals("default", kubectl.ok("get", "pod", "account", "-o", "jsonpath={.spec.serviceAccountName}"));
    String volume = kubectl.ok("get", "pod", "account", "-o", "jsonpath={.spec.volumes[0].name}");
    assertTrue(volume.matches("kube-api-access-[a-z0-9]{5}"), volume);
    String describe = kubectl.ok("describe", "pod", "account");
    assertTrue(describe.contains("/var/run/secrets/kubernetes.io/serviceaccount from " + volume + " (ro)"), describe);
    assertTrue(describe.contains("TokenExpirationSeconds:  3607"), describe);
    // The kubelet fills it from the projection: token, CA and namespace.
    String files = kubectl.ok("exec", "account", "--", "sh", "-c",
        "cd /var/run/secrets/kubernetes.io/serviceaccount && ls && cat namespace && head -c 3 token");
    assertTrue(files.contains("ca.crt") && files.contains("token") && files.contains("default") && files.contains("eyJ"),
        files);
    kubectl.ok("delete", "pod", "account", "--grace-period=1");
  }

  @Test
  void theServiceAccountAdmissionRefusesAMissingAccountAndHonoursTheAccountsAutomount() throws Exception {
    Kubectl.Result missing = kubectl.run("run", "nosa", "--image=busybox", "--overrides",
        "{\"spec\":{\"serviceAccountName\":\"ghost\"}}", "--", "sleep", "1");
    assertNotEquals(0, missing.code());
    assertTrue(missing.out().contains("pods \"nosa\" is forbidden: error looking up service account default/ghost: "
        + "serviceaccount \"ghost\" not found"), missing.out());
    // An account that opts out of the automount: its pods get no token volume, unless the pod opts back in.
    kubectl.ok("create", "serviceaccount", "quiet");
    kubectl.ok("patch", "serviceaccount", "quiet", "--type=merge", "-p", "{\"automountServiceAccountToken\":false}");
    String none = kubectl.ok("run", "quiet", "--image=busybox", "--dry-run=server", "--overrides",
        "{\"spec\":{\"serviceAccountName\":\"quiet\"}}", "-o", "jsonpath={.spec.volumes}", "--", "sleep", "1");
    assertEquals("", none.trim());
    String optIn = kubectl.ok("run", "quiet", "--image=busybox", "--dry-run=server", "--overrides",
        "{\"spec\":{\"serviceAccountName\":\"quiet\",\"automountServiceAccountToken\":true}}",
        "-o", "jsonpath={.spec.volumes[0].name}", "--", "sleep", "1");
    assertTrue(optIn.startsWith("kube-api-access-"), optIn);
    kubectl.ok("delete", "serviceaccount", "quiet");
  }

  @Test
  void applyingAChangedDeploymentStrategyDropsTheRollingUpdateParameters() throws Exception {
    // kubectl apply reads the retainKeys strategy from the OpenAPI and sends $retainKeys; without it the
    // defaulted rollingUpdate would stay beside Recreate, which Kubernetes refuses.
    String deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: strat}
        spec:
          replicas: 0
          selector: {matchLabels: {app: strat}}
          STRATEGY
          template:
            metadata: {labels: {app: strat}}
            spec: {containers: [{name: c, image: busybox}]}
        """;
    apply(deployment.replace("STRATEGY", ""));
    apply(deployment.replace("STRATEGY", "strategy: {type: Recreate}"));
    assertEquals("{\"type\":\"Recreate\"}", kubectl.ok("get", "deployment", "strat", "-o", "jsonpath={.spec.strategy}"));
    Kubectl.Result invalid = kubectl.run("patch", "deployment", "strat", "--type=merge", "-p",
        "{\"spec\":{\"strategy\":{\"rollingUpdate\":{\"maxSurge\":1}}}}");
    assertTrue(invalid.out().contains("spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy "
        + "`type` is 'Recreate'"), invalid.out());
    kubectl.ok("delete", "deployment", "strat");
  }

  @Test
  void containersWaitingBehindInitContainersArePodInitializing() throws Exception {
    apply("""
        apiVersion: v1
        kind: Pod
        metadata: {name: initwait}
        spec:
          terminationGracePeriodSeconds: 1
          initContainers: [{name: setup, image: busybox, command: ["sleep", "3600"]}]
          containers: [{name: app, image: busybox, command: ["sleep", "3600"]}]
        """);
    kubectl.await(Duration.ofSeconds(60), out -> out.equals("PodInitializing"), "get", "pod", "initwait", "-o",
        "jsonpath={.status.containerStatuses[0].state.waiting.reason}");
    assertEquals("containers with incomplete status: [setup]", kubectl.ok("get", "pod", "initwait", "-o",
        "jsonpath={.status.conditions[?(@.type==\"Initialized\")].message}"));
    Kubectl.Result logs = kubectl.run("logs", "initwait", "-c", "app");
    assertTrue(logs.out().contains("container \"app\" in pod \"initwait\" is waiting to start: PodInitializing"),
        logs.out());
    kubectl.ok("delete", "pod", "initwait", "--grace-period=1");
  }

  @Test
  void webhookConfigurationsAChartShipsAreStoredAndListed() throws Exception {
    String manifest = apply("""
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingWebhookConfiguration
        metadata: {name: chart-validator}
        webhooks:
        - name: validate.example.com
          admissionReviewVersions: ["v1"]
          sideEffects: None
          clientConfig: {service: {name: hook, namespace: default, path: /validate}}
          rules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"]}]
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: MutatingWebhookConfiguration
        metadata: {name: chart-mutator}
        webhooks: []
        """);
    String listed = kubectl.ok("get", "validatingwebhookconfigurations,mutatingwebhookconfigurations");
    assertTrue(listed.contains("WEBHOOKS") && listed.matches("(?s).*chart-validator\\s+1\\s.*")
        && listed.matches("(?s).*chart-mutator\\s+0\\s.*"), listed);
    kubectl.ok("delete", "-f", manifest);
  }

  @Test
  void fieldsKubernetesHoldsImmutableAreRefusedOnUpdate() throws Exception {
    kubectl.ok("create", "deployment", "fixed", "--image=busybox", "--replicas=0");
    Kubectl.Result selector = kubectl.run("patch", "deployment", "fixed", "--type=merge", "-p",
        "{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"fixed\",\"x\":\"y\"}},"
            + "\"template\":{\"metadata\":{\"labels\":{\"app\":\"fixed\",\"x\":\"y\"}}}}}");
    assertTrue(selector.code() != 0 && selector.out().contains("spec.selector: Invalid value: ")
        && selector.out().contains("field is immutable"), selector.out());
    kubectl.ok("create", "job", "once", "--image=busybox", "--", "true");
    Kubectl.Result template = kubectl.run("set", "image", "job/once", "once=busybox:1.36");
    assertTrue(template.code() != 0 && template.out().contains("spec.template: Invalid value: ")
        && template.out().contains("field is immutable"), template.out());
    kubectl.ok("delete", "deployment", "fixed");
    kubectl.ok("delete", "job", "once");
  }

  @Test
  void rolloutHistoryShowsTheChangeCauseAnnotatedAfterEachChange() throws Exception {
    kubectl.ok("create", "deployment", "causes", "--image=busybox", "--replicas=0");
    kubectl.ok("annotate", "deployment", "causes", "kubernetes.io/change-cause=first");
    kubectl.await(Duration.ofSeconds(20), out -> out.contains("first"), "rollout", "history", "deployment/causes");
    kubectl.ok("set", "image", "deployment/causes", "busybox=busybox:1");
    kubectl.ok("annotate", "deployment", "causes", "kubernetes.io/change-cause=second", "--overwrite");
    String history = kubectl.await(Duration.ofSeconds(20), out -> out.contains("second"),
        "rollout", "history", "deployment/causes");
    assertTrue(history.matches("(?s).*\\n1\\s+first\\s*\\n2\\s+second.*"), history);
    kubectl.ok("delete", "deployment", "causes");
  }
}
