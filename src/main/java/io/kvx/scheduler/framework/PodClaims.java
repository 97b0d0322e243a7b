package io.kvx.scheduler.framework;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Volume;

import java.util.List;

/** A pod's PersistentVolumeClaims as the volume plugins read them: each claim with its bound volume, if any. */
public final class PodClaims {

  /** A claim the pod mounts; {@code volume} is null while the claim is unbound. */
  public record Claim(PersistentVolumeClaim pvc, PersistentVolume volume) {
  }

  private PodClaims() {
  }

  /**
   * Adds the pod's claims to {@code out}; a claim or a bound volume that does not exist is the returned
   * (unresolvable) status, else SUCCESS.
   */
  public static Status resolve(PodInfo pod, Listers listers, List<Claim> out) {
    for (Volume v : pod.spec().getVolumes() == null ? List.<Volume>of() : pod.spec().getVolumes()) {
      if (v.getPersistentVolumeClaim() == null) continue;
      String name = v.getPersistentVolumeClaim().getClaimName();
      PersistentVolumeClaim pvc = listers.pvc(pod.namespace(), name);
      if (pvc == null) return Status.unresolvable("persistentvolumeclaim \"" + name + "\" not found");
      String bound = pvc.getSpec() == null ? null : pvc.getSpec().getVolumeName();
      PersistentVolume pv = null;
      if (bound != null && !bound.isEmpty()) {
        pv = listers.pv(bound);
        if (pv == null) return Status.unresolvable("persistentvolume \"" + bound + "\" not found");
      }
      out.add(new Claim(pvc, pv));
    }
    return Status.SUCCESS;
  }
}
