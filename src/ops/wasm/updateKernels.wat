;; The optimizer's kernels: AdamW over float32 arrays and the data-parallel workers' gradient
;; sum, on a memory the module imports. src/ops/wasm/heapKernels.ts instantiates it on
;; tfjs-backend-wasm's heap beside heapKernels.wat (train/adamw.ts's one pass per weight) and, in
;; its shared-memory variant, on the workers' flat buffers (train/parallel/flatAdamW.ts). A module
;; of its own so that each stays under the 4 KB that browsers compile synchronously.
;; `npx tsx bench/reference/build-heap-wasm.ts` assembles it into updateKernelsWasm.ts.
(module
  (import "env" "memory" (memory 1))

  ;; One AdamW step over the first 4*floor(count/4) float32 elements (ops/adamwRange.ts does the
  ;; last few, and is this arithmetic in JS): the operations of train/adamw.ts's tfjs ops one for one
  ;; in float32, so the same results bit for bit:
  ;;   g = grad*scale,  m' = m*b1 + g*c1,  v' = v*b2 + (g*g)*c2,
  ;;   p' = p*keep - ((m' / (sqrt(v')/s2 + eps)) * step),
  ;; into po, mo, vo, which may be p, m, v themselves (each block is read before it is written).
  (func (export "adamw")
    (param $p i32) (param $m i32) (param $v i32) (param $g i32) (param $po i32) (param $mo i32) (param $vo i32)
    (param $count i32) (param $scale f32) (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32)
    (param $s2 f32) (param $eps f32) (param $step f32) (param $keep f32)
    (local $off i32) (local $end i32) (local $gr v128) (local $mn v128) (local $vn v128)
    (local $vscale v128) (local $vb1 v128) (local $vc1 v128) (local $vb2 v128) (local $vc2 v128)
    (local $vs2 v128) (local $veps v128) (local $vstep v128) (local $vkeep v128)
    (local.set $vscale (f32x4.splat (local.get $scale)))
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $vs2 (f32x4.splat (local.get $s2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vstep (f32x4.splat (local.get $step)))
    (local.set $vkeep (f32x4.splat (local.get $keep)))
    (local.set $end (i32.shl (i32.shr_u (local.get $count) (i32.const 2)) (i32.const 4)))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $gr (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $off))) (local.get $vscale)))
        (local.set $mn
          (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $off))) (local.get $vb1))
            (f32x4.mul (local.get $gr) (local.get $vc1))))
        (local.set $vn
          (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $off))) (local.get $vb2))
            (f32x4.mul (f32x4.mul (local.get $gr) (local.get $gr)) (local.get $vc2))))
        (v128.store (i32.add (local.get $po) (local.get $off))
          (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $off))) (local.get $vkeep))
            (f32x4.mul
              (f32x4.div (local.get $mn)
                (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vn)) (local.get $vs2)) (local.get $veps)))
              (local.get $vstep))))
        (v128.store (i32.add (local.get $mo) (local.get $off)) (local.get $mn))
        (v128.store (i32.add (local.get $vo) (local.get $off)) (local.get $vn))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $block))))

  ;; The data-parallel reduction over the first 4*floor(count/4) elements of `slots` gradient
  ;; slots spaced `stride` bytes apart from g0: g0[i] = g0[i] + g1[i] + ... in slot order, each sum
  ;; rounded to float32 (as adding the slots one by one), and the result is Sigma g0[i]^2 in double.
  (func (export "reduce") (param $g0 i32) (param $count i32) (param $slots i32) (param $stride i32) (result f64)
    (local $off i32) (local $end i32) (local $s i32) (local $at i32) (local $acc v128) (local $sq v128)
    (local.set $end (i32.add (local.get $g0) (i32.shl (i32.shr_u (local.get $count) (i32.const 2)) (i32.const 4))))
    (local.set $off (local.get $g0))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $acc (v128.load (local.get $off)))
        (local.set $at (local.get $off))
        (local.set $s (i32.const 1))
        (block $summed
          (loop $slot
            (br_if $summed (i32.ge_u (local.get $s) (local.get $slots)))
            (local.set $at (i32.add (local.get $at) (local.get $stride)))
            (local.set $acc (f32x4.add (local.get $acc) (v128.load (local.get $at))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $slot)))
        (v128.store (local.get $off) (local.get $acc))
        ;; squares in double: lanes 0, 1 into sq's two lanes, then lanes 2, 3
        (local.set $sq (f64x2.add (local.get $sq)
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $acc)) (f64x2.promote_low_f32x4 (local.get $acc)))))
        (local.set $acc (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $acc) (local.get $acc)))
        (local.set $sq (f64x2.add (local.get $sq)
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $acc)) (f64x2.promote_low_f32x4 (local.get $acc)))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $block)))
    (f64.add (f64x2.extract_lane 0 (local.get $sq)) (f64x2.extract_lane 1 (local.get $sq)))))
