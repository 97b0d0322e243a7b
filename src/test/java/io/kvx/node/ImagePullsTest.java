package io.kvx.node;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImagePullsTest {

  @Test
  void policiesAsTheKubeletHonoursThem() {
    ImagePulls p = new ImagePulls();
    assertEquals("Always", ImagePulls.policy(null, "busybox"));
    assertEquals("Always", ImagePulls.policy("", "busybox:latest"));
    assertEquals("IfNotPresent", ImagePulls.policy(null, "busybox:1.36"));
    assertEquals("Always", ImagePulls.policy(null, "localhost:5000/busybox"), "a registry port is not a tag");
    assertEquals("IfNotPresent", ImagePulls.policy(null, "localhost:5000/busybox:1"));

    ImagePulls.Decision never = p.decide("u", "nope:1", "Never", false, 0);
    assertEquals("ErrImageNeverPull", never.reason());
    assertEquals("Container image \"nope:1\" is not present with pull policy of Never", never.message());
    assertFalse(never.pull());

    ImagePulls.Decision present = p.decide("u", "busybox:1", "IfNotPresent", true, 0);
    assertTrue(present.start());
    assertFalse(present.pull(), "IfNotPresent uses the image that is there");
    assertEquals("Container image \"busybox:1\" already present on machine", present.eventMessage());

    ImagePulls.Decision always = p.decide("u", "busybox", "Always", true, 0);
    assertTrue(always.start() && always.pull(), "Always pulls even when the image is there");
  }

  @Test
  void aFailedPullIsErrImagePullThenImagePullBackOffWithAGrowingBackOff() {
    ImagePulls p = new ImagePulls();
    ImagePulls.Decision first = p.decide("u", "nope:1", "IfNotPresent", false, 0);
    assertEquals("ErrImagePull", first.reason());
    assertTrue(first.message().startsWith("failed to pull and unpack image \"docker.io/library/nope:1\""), first.message());
    ImagePulls.Decision waiting = p.decide("u", "nope:1", "IfNotPresent", false, 5_000);
    assertEquals("ImagePullBackOff", waiting.reason());
    assertTrue(waiting.message().startsWith("Back-off pulling image \"nope:1\": ErrImagePull: failed to pull"),
        waiting.message());
    assertEquals("ErrImagePull", p.decide("u", "nope:1", "IfNotPresent", false, 10_000).reason(), "retried after 10 s");
    assertEquals("ImagePullBackOff", p.decide("u", "nope:1", "IfNotPresent", false, 29_000).reason(), "then 20 s");
    assertEquals("ErrImagePull", p.decide("u", "nope:1", "IfNotPresent", false, 30_000).reason());
    assertEquals("ErrImagePull", p.decide("other", "nope:1", "IfNotPresent", false, 30_001).reason(),
        "back-off is per pod");
    assertTrue(p.decide("u", "nope:1", "IfNotPresent", true, 70_001).start(), "imported meanwhile: starts");
  }
}
