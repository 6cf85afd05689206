/**
 * The two Keras callbacks of the reference fit (`model.py:653-655`), as plain state
 * machines with serialisable state so a resumed run continues them exactly.
 */

export interface PlateauState {
  best: number;
  wait: number;
  cooldownCounter: number;
}

/**
 * ReduceLROnPlateau(monitor='val_loss', factor=0.5, patience=2, min_lr=1e-4), Keras defaults
 * min_delta=1e-4, cooldown=0, mode min (`model.py:653-655`). Keras logic: an improvement is
 * current < best − min_delta; otherwise wait += 1 and, at wait >= patience, if the (float32) lr
 * is above min_lr it becomes max(lr·factor, min_lr) and wait resets.
 */
export class ReduceLROnPlateau {
  readonly factor: number;
  readonly patience: number;
  readonly minLr: number;
  readonly minDelta: number;
  readonly cooldown: number;
  state: PlateauState = { best: Infinity, wait: 0, cooldownCounter: 0 };

  constructor(opts: { factor?: number; patience?: number; minLr?: number; minDelta?: number; cooldown?: number } = {}) {
    this.factor = opts.factor ?? 0.5; // `model.py:653-655`: factor 0.5
    this.patience = opts.patience ?? 2; // `model.py:653-655`: patience 2
    this.minLr = opts.minLr ?? 1e-4; // `model.py:653-655`: min_lr 1e-4
    this.minDelta = opts.minDelta ?? 1e-4; // Keras default min_delta 1e-4 (`model.py:653-655`)
    this.cooldown = opts.cooldown ?? 0; // Keras default cooldown 0
  }

  /** Returns the learning rate for the next epoch. A null monitor value (no validation data) changes nothing, as in Keras. */
  onEpochEnd(current: number | null, lr: number): number {
    if (current === null || current === undefined) return lr;
    const st = this.state;
    const inCooldown = st.cooldownCounter > 0;
    if (inCooldown) {
      st.cooldownCounter -= 1;
      st.wait = 0;
    }
    if (current < st.best - this.minDelta) {
      st.best = current;
      st.wait = 0;
    } else if (!(st.cooldownCounter > 0)) {
      st.wait += 1;
      if (st.wait >= this.patience) {
        // Keras compares the float32 learning rate with float32(min_lr).
        if (Math.fround(lr) > Math.fround(this.minLr)) {
          lr = Math.max(lr * this.factor, this.minLr);
          st.cooldownCounter = this.cooldown;
          st.wait = 0;
        }
      }
    }
    return lr;
  }
}

export interface EarlyStoppingState {
  best: number;
  wait: number;
}

/**
 * EarlyStopping(monitor='loss', patience=3), Keras defaults min_delta=0, mode min, no weight
 * restore (`model.py:653-655`: it monitors the TRAINING loss). Keras 3 logic: wait += 1; an
 * improvement (current − min_delta < best) resets wait; stop when wait >= patience and epoch > 0.
 */
export class EarlyStopping {
  readonly patience: number;
  readonly minDelta: number;
  state: EarlyStoppingState = { best: Infinity, wait: 0 };

  constructor(opts: { patience?: number; minDelta?: number } = {}) {
    this.patience = opts.patience ?? 3; // `model.py:653-655`: patience 3
    this.minDelta = Math.abs(opts.minDelta ?? 0); // `model.py:653-655`: min_delta 0
  }

  /** @param epoch 0-based epoch index. Returns true when training should stop. */
  onEpochEnd(current: number, epoch: number): boolean {
    const st = this.state;
    st.wait += 1;
    if (current - this.minDelta < st.best) {
      st.best = current;
      st.wait = 0;
      return false;
    }
    return st.wait >= this.patience && epoch > 0;
  }
}
