package io.kvx.node;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PodVolumesTest {

  private static JsonObject pod(String volumes) {
    return new JsonObject("""
        {"metadata": {"name": "p", "namespace": "ns", "labels": {"app": "a"}},
         "spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "250m", "memory": "64Mi"}}}],
                  "volumes": %s}}""".formatted(volumes));
  }

  private static PodVolumes.Inputs inputs(String cmValue) {
    Map<String, JsonObject> cms = new HashMap<>();
    cms.put("cm", new JsonObject().put("data", new JsonObject().put("a", cmValue).put("b", "2")));
    Map<String, JsonObject> secrets = new HashMap<>();
    secrets.put("s", new JsonObject().put("data", new JsonObject().put("pass", "cEBzcw==")));
    return new PodVolumes.Inputs(cms, secrets, Map.of(), null, Map.of(),
        new JsonObject().put("cpu", "2").put("memory", "1Gi"));
  }

  private static String read(Path p) throws Exception {
    return Files.readString(p, StandardCharsets.UTF_8);
  }

  @Test
  void configMapVolumesChangeAtomicallyAndKeepTheirModes(@TempDir Path podDir) throws Exception {
    JsonObject pod = pod("""
        [{"name": "cfg", "configMap": {"name": "cm", "defaultMode": 384, "items": [{"key": "a", "path": "a"},
                                                                                    {"key": "b", "path": "sub/b", "mode": 493}]}},
         {"name": "sec", "secret": {"secretName": "s", "defaultMode": 256}}]""");
    Map<String, Path> volumes = PodVolumes.materialize(pod, podDir, inputs("1"), f -> "");
    Path cfg = volumes.get("cfg");
    assertEquals("1", read(cfg.resolve("a")));
    assertTrue(Files.isSymbolicLink(cfg.resolve("a")), "a visible name is a link through ..data");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cfg.resolve("a"))));
    assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(cfg.resolve("sub/b"))));
    assertEquals("p@ss", read(volumes.get("sec").resolve("pass")));
    assertEquals("r--------", PosixFilePermissions.toString(Files.getPosixFilePermissions(volumes.get("sec").resolve("pass"))));
    Path before = Files.readSymbolicLink(cfg.resolve(AtomicDir.DATA));

    assertFalse(PodVolumes.refresh(pod, volumes, inputs("1"), f -> ""), "nothing changed: nothing written");
    assertTrue(PodVolumes.refresh(pod, volumes, inputs("updated"), f -> ""));
    assertEquals("updated", read(cfg.resolve("a")));
    Path after = Files.readSymbolicLink(cfg.resolve(AtomicDir.DATA));
    assertFalse(before.equals(after), "a new timestamped directory");
    try (Stream<Path> s = Files.list(cfg)) {
      assertEquals(Stream.of("..data", after.toString(), "a", "sub").sorted().toList(), s.map(p -> p.getFileName().toString()).sorted().toList(),
          "the old files are gone");
    }
  }

  @Test
  void downwardApiResourcesAreDividedAndRoundedUpWithTheNodesAllocatableForUnsetLimits(@TempDir Path podDir)
      throws Exception {
    JsonObject pod = pod("""
        [{"name": "info", "downwardAPI": {"items": [
          {"path": "cpu", "resourceFieldRef": {"containerName": "c", "resource": "limits.cpu", "divisor": "1m"}},
          {"path": "cores", "resourceFieldRef": {"containerName": "c", "resource": "limits.cpu"}},
          {"path": "mem", "resourceFieldRef": {"containerName": "c", "resource": "limits.memory", "divisor": "1Mi"}},
          {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}}]""");
    Path info = PodVolumes.materialize(pod, podDir, inputs("1"), f -> "").get("info");
    assertEquals("250", read(info.resolve("cpu")));
    assertEquals("1", read(info.resolve("cores")));
    assertEquals("64", read(info.resolve("mem")));
    assertEquals("app=\"a\"\n", read(info.resolve("labels")));
    JsonObject unlimited = new JsonObject().put("name", "c");
    assertEquals("1024", PodVolumes.resourceField(unlimited, new JsonObject().put("resource", "limits.memory")
        .put("divisor", "1Mi"), new JsonObject().put("memory", "1Gi")));
    assertEquals("0", PodVolumes.resourceField(unlimited, new JsonObject().put("resource", "requests.cpu"),
        new JsonObject().put("cpu", "2")));
  }
}
