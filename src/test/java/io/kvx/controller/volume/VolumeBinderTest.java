package io.kvx.controller.volume;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class VolumeBinderTest {

  private static JsonObject pvc(String yamlishSpec) {
    return new JsonObject(("{'metadata':{'name':'c','namespace':'ns','uid':'u1'},'spec':" + yamlishSpec + "}")
        .replace('\'', '"'));
  }

  private static JsonObject pv(String name, String spec) {
    return new JsonObject(("{'metadata':{'name':'" + name + "','labels':{'tier':'fast'}},'spec':" + spec + "}")
        .replace('\'', '"'));
  }

  private static final String RWO_5MI = "{'storageClassName':'','accessModes':['ReadWriteOnce'],"
      + "'resources':{'requests':{'storage':'5Mi'}}}";

  @Test
  void fitsFollowsClassModesSizeSelectorAndPreBinding() {
    record Case(String what, String claim, String volume, boolean want) {}
    String ok = "{'storageClassName':'','accessModes':['ReadWriteOnce','ReadOnlyMany'],'capacity':{'storage':'10Mi'}}";
    for (Case c : new Case[] {
        new Case("fits", RWO_5MI, ok, true),
        new Case("too small", RWO_5MI, "{'accessModes':['ReadWriteOnce'],'capacity':{'storage':'1Mi'}}", false),
        new Case("other class", RWO_5MI, "{'storageClassName':'fast','accessModes':['ReadWriteOnce'],"
            + "'capacity':{'storage':'1Gi'}}", false),
        new Case("missing mode", "{'accessModes':['ReadWriteMany']}", ok, false),
        new Case("block vs filesystem", "{'volumeMode':'Block','accessModes':['ReadWriteOnce']}", ok, false),
        new Case("selector matches", "{'accessModes':['ReadWriteOnce'],'selector':{'matchLabels':{'tier':'fast'}}}",
            ok, true),
        new Case("selector does not", "{'accessModes':['ReadWriteOnce'],'selector':{'matchLabels':{'tier':'slow'}}}",
            ok, false),
        new Case("pre-bound to another claim", RWO_5MI, "{'accessModes':['ReadWriteOnce'],'capacity':{'storage':'1Gi'},"
            + "'claimRef':{'namespace':'ns','name':'other'}}", false),
        new Case("pre-bound to this claim", RWO_5MI, "{'accessModes':['ReadWriteOnce'],'capacity':{'storage':'1Gi'},"
            + "'claimRef':{'namespace':'ns','name':'c'}}", true),
        new Case("claim names another volume", "{'volumeName':'elsewhere','accessModes':['ReadWriteOnce']}", ok, false),
    }) {
      assertEquals(c.want(), VolumeBinder.fits(pvc(c.claim()), pv("v", c.volume())), c.what());
    }
  }

  @Test
  void pickTakesTheSmallestFitOnTheChosenNode() {
    String affinity = ",'nodeAffinity':{'required':{'nodeSelectorTerms':[{'matchExpressions':[{'key':"
        + "'kubernetes.io/hostname','operator':'In','values':['%s']}]}]}}";
    JsonObject big = pv("big", "{'accessModes':['ReadWriteOnce'],'capacity':{'storage':'1Gi'}}");
    JsonObject small = pv("small", "{'accessModes':['ReadWriteOnce'],'capacity':{'storage':'6Mi'}"
        + affinity.formatted("n1") + "}");
    JsonObject claim = pvc(RWO_5MI);
    assertEquals("small", VolumeBinder.pick(claim, List.of(big, small), null, Map.of()).getJsonObject("metadata")
        .getString("name"));
    assertEquals("big", VolumeBinder.pick(claim, List.of(big, small), "n2", Map.of("kubernetes.io/hostname", "n2"))
        .getJsonObject("metadata").getString("name"), "the small one is pinned to n1");
    assertNull(VolumeBinder.pick(pvc("{'accessModes':['ReadWriteOnce'],'resources':{'requests':{'storage':'2Gi'}}}"),
        List.of(big, small), null, Map.of()));
  }

  @Test
  void provisionedVolumeIsPinnedToTheNodeAndPreBound() {
    JsonObject sc = new JsonObject("{\"metadata\":{\"name\":\"local-path\"},\"reclaimPolicy\":\"Delete\"}");
    JsonObject made = VolumeBinder.provision(pvc(RWO_5MI), sc, "n1", "/var/kvx/claims");
    assertEquals("pvc-u1", made.getJsonObject("metadata").getString("name"));
    JsonObject spec = made.getJsonObject("spec");
    assertEquals("/var/kvx/claims/pvc-u1_ns_c", spec.getJsonObject("hostPath").getString("path"));
    assertEquals("Delete", spec.getString("persistentVolumeReclaimPolicy"));
    assertEquals("5Mi", spec.getJsonObject("capacity").getString("storage"));
    assertEquals("u1", spec.getJsonObject("claimRef").getString("uid"));
    JsonObject pvc = pvc(RWO_5MI).put("spec", pvc(RWO_5MI).getJsonObject("spec").put("storageClassName", "local-path"));
    assertEquals(true, VolumeBinder.fits(pvc, made));
    assertEquals(true, VolumeBinder.nodeMatches(made, "n1", Map.of("kubernetes.io/hostname", "n1")));
    assertEquals(false, VolumeBinder.nodeMatches(made, "n2", Map.of("kubernetes.io/hostname", "n2")));
  }
}
