;; WebAssembly SIMD kernels of the local deep-memory engine (see wasm-simd.ts).
;; After editing, regenerate the bytes embedded in wasm-simd.ts:
;;   npx -y -p wabt@1.0.37 wat2wasm wasm-simd.wat -o - | base64 -w0
(module
  ;; Memory is imported so the host can size and grow it.
  (import "env" "memory" (memory 1))
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))
  ;; The four lane sums of a, b, c, d as one vector: one call and one store
  ;; per four outputs instead of four scalar reductions.
  (func $hsum4 (param $a v128) (param $b v128) (param $c v128) (param $d v128) (result v128)
    (local $ab v128) (local $cd v128)
    (local.set $ab (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a) (local.get $b))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a) (local.get $b))))
    (local.set $cd (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $c) (local.get $d))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $c) (local.get $d))))
    (f32x4.add
      (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $ab) (local.get $cd))
      (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $ab) (local.get $cd))))
  ;; out[i*ldo + j] = sum_p a[i*k + p] * b[j*k + p] for i < m, j < n.
  ;; A 2 x 4 register tile: two rows of A against four rows of B, eight f32x4
  ;; accumulators, so each loaded vector feeds four (or two) multiply-adds.
  ;; Pointers are byte offsets; requires k % 4 == 0, m % 2 == 0, n % 4 == 0.
  (func (export "abt") (param $a i32) (param $b i32) (param $m i32) (param $n i32) (param $k i32) (param $out i32) (param $ldo i32)
    (local $i i32) (local $j i32) (local $p i32) (local $kb i32) (local $ldb i32)
    (local $a0 i32) (local $a1 i32) (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32) (local $o i32)
    (local $x0 v128) (local $x1 v128) (local $y v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldo) (i32.const 2)))
    (block $iend (loop $iloop
      (br_if $iend (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $kb))))
      (local.set $a1 (i32.add (local.get $a0) (local.get $kb)))
      (local.set $j (i32.const 0))
      (block $jend (loop $jloop
        (br_if $jend (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $b0 (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $kb))))
        (local.set $b1 (i32.add (local.get $b0) (local.get $kb)))
        (local.set $b2 (i32.add (local.get $b1) (local.get $kb)))
        (local.set $b3 (i32.add (local.get $b2) (local.get $kb)))
        (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0)) (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c12 (v128.const i32x4 0 0 0 0)) (local.set $c13 (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.const 0))
        (block $pend (loop $ploop
          (br_if $pend (i32.ge_u (local.get $p) (local.get $kb)))
          (local.set $x0 (v128.load (i32.add (local.get $a0) (local.get $p))))
          (local.set $x1 (v128.load (i32.add (local.get $a1) (local.get $p))))
          (local.set $y (v128.load (i32.add (local.get $b0) (local.get $p))))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x0) (local.get $y))))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x1) (local.get $y))))
          (local.set $y (v128.load (i32.add (local.get $b1) (local.get $p))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x0) (local.get $y))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x1) (local.get $y))))
          (local.set $y (v128.load (i32.add (local.get $b2) (local.get $p))))
          (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $x0) (local.get $y))))
          (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $x1) (local.get $y))))
          (local.set $y (v128.load (i32.add (local.get $b3) (local.get $p))))
          (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $x0) (local.get $y))))
          (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $x1) (local.get $y))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $ploop)))
        (local.set $o (i32.add (local.get $out)
          (i32.add (i32.mul (local.get $i) (local.get $ldb)) (i32.shl (local.get $j) (i32.const 2)))))
        (v128.store (local.get $o) (call $hsum4 (local.get $c00) (local.get $c01) (local.get $c02) (local.get $c03)))
        (v128.store (i32.add (local.get $o) (local.get $ldb))
          (call $hsum4 (local.get $c10) (local.get $c11) (local.get $c12) (local.get $c13)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $jloop)))
      (local.set $i (i32.add (local.get $i) (i32.const 2)))
      (br $iloop))))

  ;; out[j] = sum_p x[p] * b[j*k + p] for j < n: abt for a single row of A
  ;; (one query), four rows of B a pass with nothing spent on a padding row.
  ;; Byte offsets; requires k % 4 == 0 and n % 4 == 0.
  (func (export "abt1") (param $x i32) (param $b i32) (param $n i32) (param $k i32) (param $out i32)
    (local $j i32) (local $p i32) (local $kb i32)
    (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32)
    (local $x0 v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (block $jend (loop $jloop
      (br_if $jend (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $b0 (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $kb))))
      (local.set $b1 (i32.add (local.get $b0) (local.get $kb)))
      (local.set $b2 (i32.add (local.get $b1) (local.get $kb)))
      (local.set $b3 (i32.add (local.get $b2) (local.get $kb)))
      (local.set $c0 (v128.const i32x4 0 0 0 0)) (local.set $c1 (v128.const i32x4 0 0 0 0))
      (local.set $c2 (v128.const i32x4 0 0 0 0)) (local.set $c3 (v128.const i32x4 0 0 0 0))
      (local.set $p (i32.const 0))
      (block $pend (loop $ploop
        (br_if $pend (i32.ge_u (local.get $p) (local.get $kb)))
        (local.set $x0 (v128.load (i32.add (local.get $x) (local.get $p))))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $x0) (v128.load (i32.add (local.get $b0) (local.get $p))))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $x0) (v128.load (i32.add (local.get $b1) (local.get $p))))))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $x0) (v128.load (i32.add (local.get $b2) (local.get $p))))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $x0) (v128.load (i32.add (local.get $b3) (local.get $p))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $ploop)))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2)))
        (call $hsum4 (local.get $c0) (local.get $c1) (local.get $c2) (local.get $c3)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $jloop))))

  ;; out[r*count + j] = x_r . base_row(idx[r*count + j]) for r < rows, j < count,
  ;; where x_r starts at x + r*k floats and base rows are k floats apart.
  ;; Requires k % 4 == 0 and count % 2 == 0; every index must be valid.
  (func (export "gather_dots") (param $x i32) (param $rows i32) (param $base i32) (param $idx i32) (param $count i32) (param $k i32) (param $out i32)
    (local $r i32) (local $j i32) (local $p i32) (local $kb i32)
    (local $xr i32) (local $ir i32) (local $or i32) (local $b0 i32) (local $b1 i32)
    (local $xv v128) (local $c0 v128) (local $c1 v128)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (block $rend (loop $rloop
      (br_if $rend (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $xr (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $kb))))
      (local.set $ir (i32.add (local.get $idx) (i32.shl (i32.mul (local.get $r) (local.get $count)) (i32.const 2))))
      (local.set $or (i32.add (local.get $out) (i32.shl (i32.mul (local.get $r) (local.get $count)) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $jend (loop $jloop
        (br_if $jend (i32.ge_u (local.get $j) (local.get $count)))
        (local.set $b0 (i32.add (local.get $base)
          (i32.mul (i32.load (i32.add (local.get $ir) (i32.shl (local.get $j) (i32.const 2)))) (local.get $kb))))
        (local.set $b1 (i32.add (local.get $base)
          (i32.mul (i32.load offset=4 (i32.add (local.get $ir) (i32.shl (local.get $j) (i32.const 2)))) (local.get $kb))))
        (local.set $c0 (v128.const i32x4 0 0 0 0))
        (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.const 0))
        (block $pend (loop $ploop
          (br_if $pend (i32.ge_u (local.get $p) (local.get $kb)))
          (local.set $xv (v128.load (i32.add (local.get $xr) (local.get $p))))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $xv) (v128.load (i32.add (local.get $b0) (local.get $p))))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $xv) (v128.load (i32.add (local.get $b1) (local.get $p))))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $ploop)))
        (f32.store offset=0 (i32.add (local.get $or) (i32.shl (local.get $j) (i32.const 2))) (call $hsum (local.get $c0)))
        (f32.store offset=4 (i32.add (local.get $or) (i32.shl (local.get $j) (i32.const 2))) (call $hsum (local.get $c1)))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $jloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop))))

  ;; y_r += sum_j coef[r*count + j] * base_row(idx[r*count + j]) for r < rows,
  ;; where y_r starts at y + r*k floats. Requires k % 4 == 0; entries with a
  ;; zero coefficient are skipped, so their index is never read.
  (func (export "gather_axpys") (param $y i32) (param $rows i32) (param $base i32) (param $idx i32) (param $coef i32) (param $count i32) (param $k i32)
    (local $r i32) (local $j i32) (local $p i32) (local $kb i32)
    (local $yr i32) (local $ir i32) (local $cr i32) (local $b i32) (local $c f32) (local $cv v128) (local $at i32)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (block $rend (loop $rloop
      (br_if $rend (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $yr (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $kb))))
      (local.set $ir (i32.add (local.get $idx) (i32.shl (i32.mul (local.get $r) (local.get $count)) (i32.const 2))))
      (local.set $cr (i32.add (local.get $coef) (i32.shl (i32.mul (local.get $r) (local.get $count)) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $jend (loop $jloop
        (br_if $jend (i32.ge_u (local.get $j) (local.get $count)))
        (local.set $c (f32.load (i32.add (local.get $cr) (i32.shl (local.get $j) (i32.const 2)))))
        (if (f32.ne (local.get $c) (f32.const 0))
          (then
            (local.set $cv (f32x4.splat (local.get $c)))
            (local.set $b (i32.add (local.get $base)
              (i32.mul (i32.load (i32.add (local.get $ir) (i32.shl (local.get $j) (i32.const 2)))) (local.get $kb))))
            (local.set $p (i32.const 0))
            (block $pend (loop $ploop
              (br_if $pend (i32.ge_u (local.get $p) (local.get $kb)))
              (local.set $at (i32.add (local.get $yr) (local.get $p)))
              (v128.store (local.get $at)
                (f32x4.add (v128.load (local.get $at)) (f32x4.mul (local.get $cv) (v128.load (i32.add (local.get $b) (local.get $p))))))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (br $ploop)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop))))

  ;; One AdamW step over n floats (n % 4 == 0), in place on param, m and v:
  ;; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
  ;; param = param * decay - step * m / (sqrt(v * c2) + eps), where step = lr * c1.
  (func (export "adamw") (param $param i32) (param $grad i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f32) (param $b2 f32) (param $c2 f32) (param $eps f32) (param $decay f32) (param $step f32)
    (local $p i32) (local $nb i32) (local $g v128) (local $mv v128) (local $vv v128)
    (local $vb1 v128) (local $vb1c v128) (local $vb2 v128) (local $vb2c v128) (local $vc2 v128) (local $veps v128) (local $vdecay v128) (local $vstep v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vb1c (f32x4.splat (f32.sub (f32.const 1) (local.get $b1))))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vb2c (f32x4.splat (f32.sub (f32.const 1) (local.get $b2))))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vdecay (f32x4.splat (local.get $decay)))
    (local.set $vstep (f32x4.splat (local.get $step)))
    (block $end (loop $loop
      (br_if $end (i32.ge_u (local.get $p) (local.get $nb)))
      (local.set $g (v128.load (i32.add (local.get $grad) (local.get $p))))
      (local.set $mv (f32x4.add (f32x4.mul (local.get $vb1) (v128.load (i32.add (local.get $m) (local.get $p))))
        (f32x4.mul (local.get $vb1c) (local.get $g))))
      (local.set $vv (f32x4.add (f32x4.mul (local.get $vb2) (v128.load (i32.add (local.get $v) (local.get $p))))
        (f32x4.mul (local.get $vb2c) (f32x4.mul (local.get $g) (local.get $g)))))
      (v128.store (i32.add (local.get $m) (local.get $p)) (local.get $mv))
      (v128.store (i32.add (local.get $v) (local.get $p)) (local.get $vv))
      (v128.store (i32.add (local.get $param) (local.get $p))
        (f32x4.sub
          (f32x4.mul (v128.load (i32.add (local.get $param) (local.get $p))) (local.get $vdecay))
          (f32x4.div (f32x4.mul (local.get $vstep) (local.get $mv))
            (f32x4.add (f32x4.sqrt (f32x4.mul (local.get $vv) (local.get $vc2))) (local.get $veps)))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $loop))))

  ;; Candidates for the `limit` keys nearest the binary code at x by Hamming
  ;; distance, among the keys from..to-1 of each (from, to) int32 pair at
  ;; ranges. A key is kept (its number in keys[c], its distance in dist[c],
  ;; hist[distance] += 1) unless at least `limit` kept keys are already
  ;; nearer; the bound that decides this falls as keys are kept, so after the
  ;; first few hundred keys almost every key costs only its distance. Every
  ;; key within the final cut-off is kept, in scan order. Returns the number
  ;; kept. Codes are k bytes at codes + key * k; k >= 48, k % 16 == 0; bits is
  ;; the largest possible distance; limit >= 1. The first 48 bytes (all of
  ;; them at d = 384) are compared against query words held in locals, about
  ;; twice as fast as a loop that loads them; i64.popcnt is one instruction on
  ;; x86-64 and arm64, faster here than i8x16.popcnt.
  (func (export "hamming_shortlist") (param $x i32) (param $codes i32) (param $ranges i32) (param $nranges i32) (param $k i32)
    (param $bits i32) (param $limit i32) (param $hist i32) (param $keys i32) (param $dist i32) (result i32)
    (local $r i32) (local $key i32) (local $to i32) (local $row i32) (local $p i32) (local $q i32) (local $end i32)
    (local $c i32) (local $h i32) (local $bound i32) (local $kept i32) (local $d i32) (local $acc i64)
    (local $x0 i64) (local $x1 i64) (local $x2 i64) (local $x3 i64) (local $x4 i64) (local $x5 i64)
    (local.set $x0 (i64.load (local.get $x)))
    (local.set $x1 (i64.load offset=8 (local.get $x)))
    (local.set $x2 (i64.load offset=16 (local.get $x)))
    (local.set $x3 (i64.load offset=24 (local.get $x)))
    (local.set $x4 (i64.load offset=32 (local.get $x)))
    (local.set $x5 (i64.load offset=40 (local.get $x)))
    (local.set $bound (local.get $bits))
    (block $rend (loop $rloop
      (br_if $rend (i32.ge_u (local.get $r) (local.get $nranges)))
      (local.set $key (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $r) (i32.const 3)))))
      (local.set $to (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $r) (i32.const 3)))))
      (local.set $row (i32.add (local.get $codes) (i32.mul (local.get $key) (local.get $k))))
      (block $kend (loop $kloop
        (br_if $kend (i32.ge_u (local.get $key) (local.get $to)))
        (local.set $acc (i64.add
          (i64.add
            (i64.add (i64.popcnt (i64.xor (local.get $x0) (i64.load (local.get $row))))
              (i64.popcnt (i64.xor (local.get $x1) (i64.load offset=8 (local.get $row)))))
            (i64.add (i64.popcnt (i64.xor (local.get $x2) (i64.load offset=16 (local.get $row))))
              (i64.popcnt (i64.xor (local.get $x3) (i64.load offset=24 (local.get $row))))))
          (i64.add (i64.popcnt (i64.xor (local.get $x4) (i64.load offset=32 (local.get $row))))
            (i64.popcnt (i64.xor (local.get $x5) (i64.load offset=40 (local.get $row)))))))
        (local.set $end (i32.add (local.get $row) (local.get $k)))
        (if (i32.gt_u (local.get $k) (i32.const 48)) (then
          (local.set $p (i32.add (local.get $row) (i32.const 48)))
          (local.set $q (i32.add (local.get $x) (i32.const 48)))
          (loop $ploop
            (local.set $acc (i64.add (local.get $acc) (i64.add
              (i64.popcnt (i64.xor (i64.load (local.get $q)) (i64.load (local.get $p))))
              (i64.popcnt (i64.xor (i64.load offset=8 (local.get $q)) (i64.load offset=8 (local.get $p)))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (br_if $ploop (i32.lt_u (local.get $p) (local.get $end))))))
        (local.set $d (i32.wrap_i64 (local.get $acc)))
        (if (i32.le_u (local.get $d) (local.get $bound)) (then
          (i32.store (i32.add (local.get $keys) (i32.shl (local.get $c) (i32.const 2))) (local.get $key))
          (i32.store (i32.add (local.get $dist) (i32.shl (local.get $c) (i32.const 2))) (local.get $d))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (local.set $h (i32.add (local.get $hist) (i32.shl (local.get $d) (i32.const 2))))
          (i32.store (local.get $h) (i32.add (i32.load (local.get $h)) (i32.const 1)))
          (local.set $kept (i32.add (local.get $kept) (i32.const 1)))
          ;; kept counts the keys within bound; while those strictly nearer reach the limit, lower it.
          (block $bend (loop $bloop
            (local.set $h (i32.load (i32.add (local.get $hist) (i32.shl (local.get $bound) (i32.const 2)))))
            (br_if $bend (i32.lt_u (i32.sub (local.get $kept) (local.get $h)) (local.get $limit)))
            (local.set $kept (i32.sub (local.get $kept) (local.get $h)))
            (local.set $bound (i32.sub (local.get $bound) (i32.const 1)))
            (br $bloop)))))
        (local.set $key (i32.add (local.get $key) (i32.const 1)))
        (local.set $row (local.get $end))
        (br $kloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop)))
    (local.get $c))

  ;; out[j] = sum_p x[p] * codes[ids[j]*k + p] over int8 codes, as int32: an
  ;; int8 query against rows picked by id. Four rows a pass: the rows lie
  ;; anywhere in a large table, so four independent streams of cache misses
  ;; overlap where one at a time would wait on each; the query is widened
  ;; once for all four. Sixteen codes a step, widened to i16, multiplied and
  ;; pair-summed into i32. Byte offsets; k % 16 == 0, n % 4 == 0.
  (func (export "dots_i8") (param $x i32) (param $codes i32) (param $ids i32) (param $n i32) (param $k i32) (param $out i32)
    (local $j i32) (local $p i32) (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $o i32)
    (local $lo v128) (local $hi v128) (local $b v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (block $jend (loop $jloop
      (br_if $jend (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $o (i32.add (local.get $ids) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $r0 (i32.add (local.get $codes) (i32.mul (i32.load (local.get $o)) (local.get $k))))
      (local.set $r1 (i32.add (local.get $codes) (i32.mul (i32.load offset=4 (local.get $o)) (local.get $k))))
      (local.set $r2 (i32.add (local.get $codes) (i32.mul (i32.load offset=8 (local.get $o)) (local.get $k))))
      (local.set $r3 (i32.add (local.get $codes) (i32.mul (i32.load offset=12 (local.get $o)) (local.get $k))))
      (local.set $a0 (v128.const i32x4 0 0 0 0))
      (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0))
      (local.set $a3 (v128.const i32x4 0 0 0 0))
      (local.set $p (i32.const 0))
      (block $pend (loop $ploop
        (br_if $pend (i32.ge_u (local.get $p) (local.get $k)))
        (local.set $b (v128.load (i32.add (local.get $x) (local.get $p))))
        (local.set $lo (i16x8.extend_low_i8x16_s (local.get $b)))
        (local.set $hi (i16x8.extend_high_i8x16_s (local.get $b)))
        (local.set $b (v128.load (i32.add (local.get $r0) (local.get $p))))
        (local.set $a0 (i32x4.add (local.get $a0) (i32x4.add
          (i32x4.dot_i16x8_s (local.get $lo) (i16x8.extend_low_i8x16_s (local.get $b)))
          (i32x4.dot_i16x8_s (local.get $hi) (i16x8.extend_high_i8x16_s (local.get $b))))))
        (local.set $b (v128.load (i32.add (local.get $r1) (local.get $p))))
        (local.set $a1 (i32x4.add (local.get $a1) (i32x4.add
          (i32x4.dot_i16x8_s (local.get $lo) (i16x8.extend_low_i8x16_s (local.get $b)))
          (i32x4.dot_i16x8_s (local.get $hi) (i16x8.extend_high_i8x16_s (local.get $b))))))
        (local.set $b (v128.load (i32.add (local.get $r2) (local.get $p))))
        (local.set $a2 (i32x4.add (local.get $a2) (i32x4.add
          (i32x4.dot_i16x8_s (local.get $lo) (i16x8.extend_low_i8x16_s (local.get $b)))
          (i32x4.dot_i16x8_s (local.get $hi) (i16x8.extend_high_i8x16_s (local.get $b))))))
        (local.set $b (v128.load (i32.add (local.get $r3) (local.get $p))))
        (local.set $a3 (i32x4.add (local.get $a3) (i32x4.add
          (i32x4.dot_i16x8_s (local.get $lo) (i16x8.extend_low_i8x16_s (local.get $b)))
          (i32x4.dot_i16x8_s (local.get $hi) (i16x8.extend_high_i8x16_s (local.get $b))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $ploop)))
      (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
      (i32.store (local.get $o) (i32.add
        (i32.add (i32x4.extract_lane 0 (local.get $a0)) (i32x4.extract_lane 1 (local.get $a0)))
        (i32.add (i32x4.extract_lane 2 (local.get $a0)) (i32x4.extract_lane 3 (local.get $a0)))))
      (i32.store offset=4 (local.get $o) (i32.add
        (i32.add (i32x4.extract_lane 0 (local.get $a1)) (i32x4.extract_lane 1 (local.get $a1)))
        (i32.add (i32x4.extract_lane 2 (local.get $a1)) (i32x4.extract_lane 3 (local.get $a1)))))
      (i32.store offset=8 (local.get $o) (i32.add
        (i32.add (i32x4.extract_lane 0 (local.get $a2)) (i32x4.extract_lane 1 (local.get $a2)))
        (i32.add (i32x4.extract_lane 2 (local.get $a2)) (i32x4.extract_lane 3 (local.get $a2)))))
      (i32.store offset=12 (local.get $o) (i32.add
        (i32.add (i32x4.extract_lane 0 (local.get $a3)) (i32x4.extract_lane 1 (local.get $a3)))
        (i32.add (i32x4.extract_lane 2 (local.get $a3)) (i32x4.extract_lane 3 (local.get $a3)))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $jloop))))

  ;; Training-step kernels: they work in place on buffers resident in wasm
  ;; memory, so a batch copies in only its question rows and indexes.

  ;; x_r <- normalize(x_r + s_r) for r < rows (rows k floats apart), the
  ;; length before normalising into norms[r]; a zero row stays zero.
  ;; Byte offsets; k % 4 == 0.
  (func (export "add_normalize") (param $x i32) (param $s i32) (param $rows i32) (param $k i32) (param $norms i32)
    (local $r i32) (local $p i32) (local $kb i32) (local $xr i32) (local $sr i32) (local $at i32)
    (local $v v128) (local $acc v128) (local $n f32) (local $inv v128)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (block $rend (loop $rloop
      (br_if $rend (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $xr (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $kb))))
      (local.set $sr (i32.add (local.get $s) (i32.mul (local.get $r) (local.get $kb))))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $p (i32.const 0))
      (block $pend (loop $ploop
        (br_if $pend (i32.ge_u (local.get $p) (local.get $kb)))
        (local.set $at (i32.add (local.get $xr) (local.get $p)))
        (local.set $v (f32x4.add (v128.load (local.get $at)) (v128.load (i32.add (local.get $sr) (local.get $p)))))
        (v128.store (local.get $at) (local.get $v))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $v) (local.get $v))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $ploop)))
      (local.set $n (f32.sqrt (call $hsum (local.get $acc))))
      (f32.store (i32.add (local.get $norms) (i32.shl (local.get $r) (i32.const 2))) (local.get $n))
      (if (f32.gt (local.get $n) (f32.const 0))
        (then
          (local.set $inv (f32x4.splat (f32.div (f32.const 1) (local.get $n))))
          (local.set $p (i32.const 0))
          (block $send (loop $sloop
            (br_if $send (i32.ge_u (local.get $p) (local.get $kb)))
            (local.set $at (i32.add (local.get $xr) (local.get $p)))
            (v128.store (local.get $at) (f32x4.mul (v128.load (local.get $at)) (local.get $inv)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $sloop)))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop))))

  ;; The gradient through y = x / |x|, in place: g_r <- (g_r - (g_r . y_r) y_r) / norms[r]
  ;; for r < rows (rows k floats apart; every norm > 0). Byte offsets; k % 4 == 0.
  (func (export "norm_backward") (param $g i32) (param $y i32) (param $norms i32) (param $rows i32) (param $k i32)
    (local $r i32) (local $p i32) (local $kb i32) (local $gr i32) (local $yr i32) (local $at i32)
    (local $acc v128) (local $along v128) (local $inv v128)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (block $rend (loop $rloop
      (br_if $rend (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $gr (i32.add (local.get $g) (i32.mul (local.get $r) (local.get $kb))))
      (local.set $yr (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $kb))))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $p (i32.const 0))
      (block $pend (loop $ploop
        (br_if $pend (i32.ge_u (local.get $p) (local.get $kb)))
        (local.set $acc (f32x4.add (local.get $acc)
          (f32x4.mul (v128.load (i32.add (local.get $gr) (local.get $p))) (v128.load (i32.add (local.get $yr) (local.get $p))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $ploop)))
      (local.set $along (f32x4.splat (call $hsum (local.get $acc))))
      (local.set $inv (f32x4.splat (f32.div (f32.const 1)
        (f32.load (i32.add (local.get $norms) (i32.shl (local.get $r) (i32.const 2)))))))
      (local.set $p (i32.const 0))
      (block $send (loop $sloop
        (br_if $send (i32.ge_u (local.get $p) (local.get $kb)))
        (local.set $at (i32.add (local.get $gr) (local.get $p)))
        (v128.store (local.get $at) (f32x4.mul (local.get $inv)
          (f32x4.sub (v128.load (local.get $at)) (f32x4.mul (local.get $along) (v128.load (i32.add (local.get $yr) (local.get $p)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $sloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop))))

  ;; out_i = sum_{j<n} w(i, j) b_j for i < m, where w(i, j) is the f32 at
  ;; w + i*wr + j*wc (byte strides: a row-major W, or with the strides swapped
  ;; its transpose) and b_j, out_i are rows k floats apart. Both weight-
  ;; gradient products of a training step take this form without a transpose.
  ;; A 4 x 8 register tile: four rows of out, eight columns, eight f32x4
  ;; accumulators; each pair of loaded vectors of b feeds eight multiply-adds.
  ;; Byte offsets; m % 4 == 0, k % 4 == 0.
  (func (export "weighted_rows") (param $w i32) (param $wr i32) (param $wc i32) (param $b i32) (param $m i32) (param $n i32) (param $k i32) (param $out i32)
    (local $i i32) (local $j i32) (local $c i32) (local $kb i32) (local $wr2 i32) (local $wr3 i32)
    (local $wi i32) (local $wj i32) (local $bj i32) (local $o i32)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (local.set $wr2 (i32.shl (local.get $wr) (i32.const 1)))
    (local.set $wr3 (i32.add (local.get $wr2) (local.get $wr)))
    (block $iend (loop $iloop
      (br_if $iend (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $wi (i32.add (local.get $w) (i32.mul (local.get $i) (local.get $wr))))
      (local.set $c (i32.const 0))
      (block $cend (loop $cloop
        (br_if $cend (i32.ge_u (local.get $c) (local.get $kb)))
        (local.set $a00 (v128.const i32x4 0 0 0 0)) (local.set $a01 (v128.const i32x4 0 0 0 0))
        (local.set $a10 (v128.const i32x4 0 0 0 0)) (local.set $a11 (v128.const i32x4 0 0 0 0))
        (local.set $a20 (v128.const i32x4 0 0 0 0)) (local.set $a21 (v128.const i32x4 0 0 0 0))
        (local.set $a30 (v128.const i32x4 0 0 0 0)) (local.set $a31 (v128.const i32x4 0 0 0 0))
        (local.set $wj (local.get $wi))
        (local.set $bj (i32.add (local.get $b) (local.get $c)))
        (local.set $j (i32.const 0))
        (if (i32.le_u (i32.add (local.get $c) (i32.const 32)) (local.get $kb))
          (then
            ;; Eight columns.
            (block $jend (loop $jloop
              (br_if $jend (i32.ge_u (local.get $j) (local.get $n)))
              (local.set $b0 (v128.load (local.get $bj)))
              (local.set $b1 (v128.load offset=16 (local.get $bj)))
              (local.set $x (f32x4.splat (f32.load (local.get $wj))))
              (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $x) (local.get $b0))))
              (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $x) (local.get $b1))))
              (local.set $x (f32x4.splat (f32.load (i32.add (local.get $wj) (local.get $wr)))))
              (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $x) (local.get $b0))))
              (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $x) (local.get $b1))))
              (local.set $x (f32x4.splat (f32.load (i32.add (local.get $wj) (local.get $wr2)))))
              (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $x) (local.get $b0))))
              (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $x) (local.get $b1))))
              (local.set $x (f32x4.splat (f32.load (i32.add (local.get $wj) (local.get $wr3)))))
              (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $x) (local.get $b0))))
              (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $x) (local.get $b1))))
              (local.set $wj (i32.add (local.get $wj) (local.get $wc)))
              (local.set $bj (i32.add (local.get $bj) (local.get $kb)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $jloop)))
            (local.set $o (i32.add (local.get $out) (i32.add (i32.mul (local.get $i) (local.get $kb)) (local.get $c))))
            (v128.store (local.get $o) (local.get $a00))
            (v128.store offset=16 (local.get $o) (local.get $a01))
            (local.set $o (i32.add (local.get $o) (local.get $kb)))
            (v128.store (local.get $o) (local.get $a10))
            (v128.store offset=16 (local.get $o) (local.get $a11))
            (local.set $o (i32.add (local.get $o) (local.get $kb)))
            (v128.store (local.get $o) (local.get $a20))
            (v128.store offset=16 (local.get $o) (local.get $a21))
            (local.set $o (i32.add (local.get $o) (local.get $kb)))
            (v128.store (local.get $o) (local.get $a30))
            (v128.store offset=16 (local.get $o) (local.get $a31))
            (local.set $c (i32.add (local.get $c) (i32.const 32))))
          (else
            ;; The last four columns when k % 8 == 4.
            (block $tend (loop $tloop
              (br_if $tend (i32.ge_u (local.get $j) (local.get $n)))
              (local.set $b0 (v128.load (local.get $bj)))
              (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (f32x4.splat (f32.load (local.get $wj))) (local.get $b0))))
              (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $wj) (local.get $wr)))) (local.get $b0))))
              (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $wj) (local.get $wr2)))) (local.get $b0))))
              (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $wj) (local.get $wr3)))) (local.get $b0))))
              (local.set $wj (i32.add (local.get $wj) (local.get $wc)))
              (local.set $bj (i32.add (local.get $bj) (local.get $kb)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $tloop)))
            (local.set $o (i32.add (local.get $out) (i32.add (i32.mul (local.get $i) (local.get $kb)) (local.get $c))))
            (v128.store (local.get $o) (local.get $a00))
            (local.set $o (i32.add (local.get $o) (local.get $kb)))
            (v128.store (local.get $o) (local.get $a10))
            (local.set $o (i32.add (local.get $o) (local.get $kb)))
            (v128.store (local.get $o) (local.get $a20))
            (local.set $o (i32.add (local.get $o) (local.get $kb)))
            (v128.store (local.get $o) (local.get $a30))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))))
        (br $cloop)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $iloop))))

  ;; exp(x) for x <= 0 in each lane, 0 below -87 (so exp(-inf) = 0):
  ;; x = n ln2 + f with |f| <= ln2 / 2, a degree-6 polynomial for exp(f)
  ;; (Cephes expf, error about 1 float32 ulp), times 2^n through the exponent bits.
  (func $exp_neg (param $x v128) (result v128)
    (local $n v128) (local $f v128) (local $p v128)
    (local.set $n (f32x4.nearest (f32x4.mul
      (f32x4.max (local.get $x) (v128.const f32x4 -87 -87 -87 -87))
      (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))))
    (local.set $f (f32x4.sub
      (f32x4.sub (f32x4.max (local.get $x) (v128.const f32x4 -87 -87 -87 -87))
        (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
      (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add
      (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $f) (local.get $f))) (local.get $f))
      (v128.const f32x4 1 1 1 1)))
    (v128.and
      (f32x4.ge (local.get $x) (v128.const f32x4 -87 -87 -87 -87))
      (i32x4.add (local.get $p)
        (i32x4.shl (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32.const 23)))))

  ;; Softmax of each row's candidates: for r < rows, the n scores at
  ;; scores + r*s and the pool at neg + r*ns (n, pool multiples of 4; a masked
  ;; candidate is -inf), as logits score * invTau. Writes coef = scale *
  ;; probability (same layouts), and per row the largest score and the sum of
  ;; exp((score - largest) * invTau), from which the caller takes the loss.
  ;; Every row needs one finite score. Byte offsets; s, ns in floats.
  (func (export "softmax_rows") (param $scores i32) (param $s i32) (param $n i32) (param $neg i32) (param $ns i32) (param $pool i32)
    (param $rows i32) (param $invTau f32) (param $scale f32) (param $coef i32) (param $negCoef i32) (param $sums i32) (param $maxes i32)
    (local $r i32) (local $p i32) (local $nb i32) (local $pb i32) (local $sr i32) (local $nr i32) (local $cr i32) (local $qr i32)
    (local $vmax v128) (local $vsum v128) (local $e v128) (local $max f32) (local $sum f32) (local $vm v128) (local $vt v128) (local $vc v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $pb (i32.shl (local.get $pool) (i32.const 2)))
    (local.set $vt (f32x4.splat (local.get $invTau)))
    (block $rend (loop $rloop
      (br_if $rend (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $sr (i32.add (local.get $scores) (i32.shl (i32.mul (local.get $r) (local.get $s)) (i32.const 2))))
      (local.set $nr (i32.add (local.get $neg) (i32.shl (i32.mul (local.get $r) (local.get $ns)) (i32.const 2))))
      (local.set $cr (i32.add (local.get $coef) (i32.shl (i32.mul (local.get $r) (local.get $s)) (i32.const 2))))
      (local.set $qr (i32.add (local.get $negCoef) (i32.shl (i32.mul (local.get $r) (local.get $ns)) (i32.const 2))))
      (local.set $vmax (v128.const f32x4 -inf -inf -inf -inf))
      (local.set $p (i32.const 0))
      (block $m1end (loop $m1
        (br_if $m1end (i32.ge_u (local.get $p) (local.get $nb)))
        (local.set $vmax (f32x4.max (local.get $vmax) (v128.load (i32.add (local.get $sr) (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $m1)))
      (local.set $p (i32.const 0))
      (block $m2end (loop $m2
        (br_if $m2end (i32.ge_u (local.get $p) (local.get $pb)))
        (local.set $vmax (f32x4.max (local.get $vmax) (v128.load (i32.add (local.get $nr) (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $m2)))
      (local.set $max (f32.max
        (f32.max (f32x4.extract_lane 0 (local.get $vmax)) (f32x4.extract_lane 1 (local.get $vmax)))
        (f32.max (f32x4.extract_lane 2 (local.get $vmax)) (f32x4.extract_lane 3 (local.get $vmax)))))
      (local.set $vm (f32x4.splat (local.get $max)))
      (local.set $vsum (v128.const i32x4 0 0 0 0))
      (local.set $p (i32.const 0))
      (block $e1end (loop $e1
        (br_if $e1end (i32.ge_u (local.get $p) (local.get $nb)))
        (local.set $e (call $exp_neg (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $sr) (local.get $p))) (local.get $vm)) (local.get $vt))))
        (v128.store (i32.add (local.get $cr) (local.get $p)) (local.get $e))
        (local.set $vsum (f32x4.add (local.get $vsum) (local.get $e)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $e1)))
      (local.set $p (i32.const 0))
      (block $e2end (loop $e2
        (br_if $e2end (i32.ge_u (local.get $p) (local.get $pb)))
        (local.set $e (call $exp_neg (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $nr) (local.get $p))) (local.get $vm)) (local.get $vt))))
        (v128.store (i32.add (local.get $qr) (local.get $p)) (local.get $e))
        (local.set $vsum (f32x4.add (local.get $vsum) (local.get $e)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $e2)))
      (local.set $sum (call $hsum (local.get $vsum)))
      (f32.store (i32.add (local.get $sums) (i32.shl (local.get $r) (i32.const 2))) (local.get $sum))
      (f32.store (i32.add (local.get $maxes) (i32.shl (local.get $r) (i32.const 2))) (local.get $max))
      (local.set $vc (f32x4.splat (f32.div (local.get $scale) (local.get $sum))))
      (local.set $p (i32.const 0))
      (block $c1end (loop $c1
        (br_if $c1end (i32.ge_u (local.get $p) (local.get $nb)))
        (v128.store (i32.add (local.get $cr) (local.get $p)) (f32x4.mul (v128.load (i32.add (local.get $cr) (local.get $p))) (local.get $vc)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $c1)))
      (local.set $p (i32.const 0))
      (block $c2end (loop $c2
        (br_if $c2end (i32.ge_u (local.get $p) (local.get $pb)))
        (v128.store (i32.add (local.get $qr) (local.get $p)) (f32x4.mul (v128.load (i32.add (local.get $qr) (local.get $p))) (local.get $vc)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $c2)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop))))

  ;; hsum4 for i32 lanes.
  (func $hsum4i (param $a v128) (param $b v128) (param $c v128) (param $d v128) (result v128)
    (local $ab v128) (local $cd v128)
    (local.set $ab (i32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a) (local.get $b))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a) (local.get $b))))
    (local.set $cd (i32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $c) (local.get $d))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $c) (local.get $d))))
    (i32x4.add
      (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $ab) (local.get $cd))
      (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $ab) (local.get $cd))))

  ;; abt on int16 codes, for ranking: out[i*ldo + j] = scale[j] * sum_p a[i*k + p] * b[j*k + p]
  ;; (i32 sums, exact while every partial sum fits: true for codes of rows
  ;; scaled to length 32767). Eight codes a step through i32x4.dot_i16x8_s,
  ;; twice the multiply-adds of the f32 kernel per instruction.
  ;; Byte offsets; k (codes) % 8 == 0, m % 2 == 0, n % 4 == 0.
  (func (export "abt_i16") (param $a i32) (param $b i32) (param $m i32) (param $n i32) (param $k i32) (param $out i32) (param $ldo i32) (param $scale i32)
    (local $i i32) (local $j i32) (local $p i32) (local $kb i32) (local $ldb i32)
    (local $a0 i32) (local $a1 i32) (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32) (local $o i32)
    (local $x0 v128) (local $x1 v128) (local $y v128) (local $sv v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local.set $kb (i32.shl (local.get $k) (i32.const 1)))
    (local.set $ldb (i32.shl (local.get $ldo) (i32.const 2)))
    (block $iend (loop $iloop
      (br_if $iend (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $kb))))
      (local.set $a1 (i32.add (local.get $a0) (local.get $kb)))
      (local.set $j (i32.const 0))
      (block $jend (loop $jloop
        (br_if $jend (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $b0 (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $kb))))
        (local.set $b1 (i32.add (local.get $b0) (local.get $kb)))
        (local.set $b2 (i32.add (local.get $b1) (local.get $kb)))
        (local.set $b3 (i32.add (local.get $b2) (local.get $kb)))
        (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0)) (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c12 (v128.const i32x4 0 0 0 0)) (local.set $c13 (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.const 0))
        (block $pend (loop $ploop
          (br_if $pend (i32.ge_u (local.get $p) (local.get $kb)))
          (local.set $x0 (v128.load (i32.add (local.get $a0) (local.get $p))))
          (local.set $x1 (v128.load (i32.add (local.get $a1) (local.get $p))))
          (local.set $y (v128.load (i32.add (local.get $b0) (local.get $p))))
          (local.set $c00 (i32x4.add (local.get $c00) (i32x4.dot_i16x8_s (local.get $x0) (local.get $y))))
          (local.set $c10 (i32x4.add (local.get $c10) (i32x4.dot_i16x8_s (local.get $x1) (local.get $y))))
          (local.set $y (v128.load (i32.add (local.get $b1) (local.get $p))))
          (local.set $c01 (i32x4.add (local.get $c01) (i32x4.dot_i16x8_s (local.get $x0) (local.get $y))))
          (local.set $c11 (i32x4.add (local.get $c11) (i32x4.dot_i16x8_s (local.get $x1) (local.get $y))))
          (local.set $y (v128.load (i32.add (local.get $b2) (local.get $p))))
          (local.set $c02 (i32x4.add (local.get $c02) (i32x4.dot_i16x8_s (local.get $x0) (local.get $y))))
          (local.set $c12 (i32x4.add (local.get $c12) (i32x4.dot_i16x8_s (local.get $x1) (local.get $y))))
          (local.set $y (v128.load (i32.add (local.get $b3) (local.get $p))))
          (local.set $c03 (i32x4.add (local.get $c03) (i32x4.dot_i16x8_s (local.get $x0) (local.get $y))))
          (local.set $c13 (i32x4.add (local.get $c13) (i32x4.dot_i16x8_s (local.get $x1) (local.get $y))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $ploop)))
        (local.set $o (i32.add (local.get $out)
          (i32.add (i32.mul (local.get $i) (local.get $ldb)) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $sv (v128.load (i32.add (local.get $scale) (i32.shl (local.get $j) (i32.const 2)))))
        (v128.store (local.get $o) (f32x4.mul (local.get $sv)
          (f32x4.convert_i32x4_s (call $hsum4i (local.get $c00) (local.get $c01) (local.get $c02) (local.get $c03)))))
        (v128.store (i32.add (local.get $o) (local.get $ldb)) (f32x4.mul (local.get $sv)
          (f32x4.convert_i32x4_s (call $hsum4i (local.get $c10) (local.get $c11) (local.get $c12) (local.get $c13)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $jloop)))
      (local.set $i (i32.add (local.get $i) (i32.const 2)))
      (br $iloop))))

  ;; Int16 codes for abt_i16: for r < rows, x_r (k f32 at x + r*k*4, k % 4 == 0,
  ;; zero padded) scaled to length 32767, rounded to nearest, written as
  ;; ldc int16 codes at codes + r*ldc*2 (ldc = k rounded up to 8; padding 0),
  ;; and scales[r] = length / 32767^2. A zero row gets zero codes and scale.
  ;; Every partial sum of a dot product of two code rows then fits in int32.
  (func (export "quantize_rows") (param $x i32) (param $k i32) (param $rows i32) (param $codes i32) (param $ldc i32) (param $scales i32)
    (local $r i32) (local $p i32) (local $kb i32) (local $xr i32) (local $cr i32) (local $body i32)
    (local $acc v128) (local $v v128) (local $len f32) (local $f v128)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    ;; Bytes of x read eight floats at a time; a last four go in alone.
    (local.set $body (i32.and (local.get $kb) (i32.const -32)))
    (block $rend (loop $rloop
      (br_if $rend (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $xr (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $kb))))
      (local.set $cr (i32.add (local.get $codes) (i32.shl (i32.mul (local.get $r) (local.get $ldc)) (i32.const 1))))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $p (i32.const 0))
      (block $nend (loop $nloop
        (br_if $nend (i32.ge_u (local.get $p) (local.get $kb)))
        (local.set $v (v128.load (i32.add (local.get $xr) (local.get $p))))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $v) (local.get $v))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $nloop)))
      (local.set $len (f32.sqrt (call $hsum (local.get $acc))))
      (f32.store (i32.add (local.get $scales) (i32.shl (local.get $r) (i32.const 2)))
        (f32.div (local.get $len) (f32.const 1073676289)))
      (local.set $f (f32x4.splat (select (f32.div (f32.const 32767) (local.get $len)) (f32.const 0) (f32.gt (local.get $len) (f32.const 0)))))
      (local.set $p (i32.const 0))
      (block $qend (loop $qloop
        (br_if $qend (i32.ge_u (local.get $p) (local.get $body)))
        (v128.store (i32.add (local.get $cr) (i32.shr_u (local.get $p) (i32.const 1)))
          (i16x8.narrow_i32x4_s
            (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (v128.load (i32.add (local.get $xr) (local.get $p))) (local.get $f))))
            (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (v128.load offset=16 (i32.add (local.get $xr) (local.get $p))) (local.get $f))))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $qloop)))
      (if (i32.lt_u (local.get $body) (local.get $kb))
        (then
          (v128.store (i32.add (local.get $cr) (i32.shr_u (local.get $body) (i32.const 1)))
            (i16x8.narrow_i32x4_s
              (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (v128.load (i32.add (local.get $xr) (local.get $body))) (local.get $f))))
              (v128.const i32x4 0 0 0 0)))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop))))
)
