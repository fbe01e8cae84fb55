//! The layered JSON form of a flat parameter vector:
//! `{"layers": [{"weights": [[…]], "bias": […]}, …]}` (the shape of MODEL.json's layers).

use crate::model::Model;
use serde_json::{json, Value};

/// Split a flat vector (in parameter order) into the layered JSON form.
pub fn layered(model: &Model, flat: &[f64]) -> Value {
    let mut off = 0;
    let layers: Vec<Value> = model
        .layers
        .iter()
        .map(|l| {
            let rows: Vec<Value> =
                (0..l.width()).map(|i| json!(&flat[off + i * l.fan_in..off + (i + 1) * l.fan_in])).collect();
            off += l.weights.len();
            let bias = json!(&flat[off..off + l.width()]);
            off += l.width();
            json!({ "weights": rows, "bias": bias })
        })
        .collect();
    json!({ "layers": layers })
}

/// The index of the parameter called `name` (`W1[0][2]`, `c2[1]`, as [`name`] writes them): the one
/// reading of a parameter's name (`stochgrad distribution --param`, `stochgrad field --x/--y`).
pub fn find(model: &Model, name: &str) -> crate::error::Result<usize> {
    (0..model.num_params()).find(|&i| self::name(model, i) == name).ok_or_else(|| {
        let n = model.num_params();
        let names: Vec<String> = (0..n.min(8)).map(|i| self::name(model, i)).collect();
        let more = if n > 8 { format!(", … ({n} in all)") } else { String::new() };
        crate::error::Error::Hyper(format!(
            "no parameter named \"{}\" in this network (its parameters: {}{more})",
            name.chars().take(40).collect::<String>(),
            names.join(", ")
        ))
    })
}

/// Human-readable name of parameter `index` (`W1[0][2]`, `c2[1]`; layers and units 1-based for layers only).
pub fn name(model: &Model, index: usize) -> String {
    let inputs = model.layers.first().map_or(0, |l| l.fan_in);
    Slot::of(&model.widths(), inputs, index).map_or_else(|| format!("θ{index}"), Slot::name)
}

/// Where a parameter sits, from the layer widths and the number of inputs alone (no model needed):
/// its layer (0-based), its unit, and the input it weighs (`None`: the unit's bias). The parameter
/// order is [`Model`]'s: `[W_1 row-major, c_1, W_2, c_2, …]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub layer: usize,
    pub unit: usize,
    pub from: Option<usize>,
}

impl Slot {
    /// The slot of parameter `index`, if the network has that many parameters.
    pub fn of(widths: &[usize], inputs: usize, index: usize) -> Option<Slot> {
        let mut off = 0;
        let mut fan_in = inputs;
        for (layer, &w) in widths.iter().enumerate() {
            if index < off + w * fan_in {
                let r = index - off;
                return Some(Slot { layer, unit: r / fan_in, from: Some(r % fan_in) });
            }
            off += w * fan_in;
            if index < off + w {
                return Some(Slot { layer, unit: index - off, from: None });
            }
            off += w;
            fan_in = w;
        }
        None
    }

    /// The same place moved into the network: the layer, unit and input clamped to exist (a weight
    /// from an input the layer does not have becomes the last one).
    pub fn clamped(self, widths: &[usize], inputs: usize) -> Slot {
        let layer = self.layer.min(widths.len().saturating_sub(1));
        let fan_in = if layer == 0 { inputs } else { widths[layer - 1] };
        let unit = self.unit.min(widths.get(layer).map_or(0, |w| w.saturating_sub(1)));
        let from = match self.from {
            Some(_) if fan_in == 0 => None,
            Some(j) => Some(j.min(fan_in - 1)),
            None => None,
        };
        Slot { layer, unit, from }
    }

    /// The parameter's index (the slot must exist: see [`Slot::clamped`]).
    pub fn index(self, widths: &[usize], inputs: usize) -> usize {
        let mut off = 0;
        let mut fan_in = inputs;
        for &w in &widths[..self.layer] {
            off += w * fan_in + w;
            fan_in = w;
        }
        let w = widths[self.layer];
        match self.from {
            Some(j) => off + self.unit * fan_in + j,
            None => off + w * fan_in + self.unit,
        }
    }

    /// The parameter's name (`W2[3][1]`, `c1[0]`; layers numbered from 1).
    pub fn name(self) -> String {
        match self.from {
            Some(j) => format!("W{}[{}][{}]", self.layer + 1, self.unit, j),
            None => format!("c{}[{}]", self.layer + 1, self.unit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    #[test]
    fn slots_number_and_name_every_parameter_as_the_model_does() {
        for (widths, inputs) in [(vec![1], 0), (vec![3], 2), (vec![4, 3], 5), (vec![2, 5, 1], 1), (vec![12, 12], 4)] {
            let model = Settings { widths: widths.clone(), inputs, ..Settings::default() }.to_model();
            let n = model.num_params();
            for index in 0..n {
                let slot = Slot::of(&widths, inputs, index).expect("a slot");
                assert_eq!(slot.index(&widths, inputs), index, "{widths:?} {inputs}: {slot:?}");
                // The model's own layout: weights row-major (unit, input), then the biases.
                let l = &model.layers[slot.layer];
                let at =
                    (0..slot.layer).map(|k| model.layers[k].weights.len() + model.layers[k].width()).sum::<usize>();
                let want = match slot.from {
                    Some(j) => at + slot.unit * l.fan_in + j,
                    None => at + l.weights.len() + slot.unit,
                };
                assert_eq!(want, index, "{widths:?} {inputs}: {slot:?}");
                assert_eq!(name(&model, index), slot.name());
                assert_eq!(slot.clamped(&widths, inputs), slot);
            }
            assert_eq!(Slot::of(&widths, inputs, n), None);
        }
        let model = Settings { widths: vec![4, 3], inputs: 5, ..Settings::default() }.to_model();
        assert_eq!(name(&model, 0), "W1[0][0]");
        assert_eq!(name(&model, 4 * 5 + 3), "c1[3]");
        assert_eq!(name(&model, 4 * 5 + 4 + 2 * 4 + 1), "W2[2][1]");
        assert_eq!(name(&model, model.num_params()), format!("θ{}", model.num_params()));
        // Moving to a narrower layer clamps the unit and the input; a layer without inputs has
        // only biases.
        let (widths, inputs) = (vec![4, 2], 0);
        let s = Slot { layer: 1, unit: 3, from: Some(3) }.clamped(&widths, inputs);
        assert_eq!(s, Slot { layer: 1, unit: 1, from: Some(3) });
        let s = Slot { layer: 1, unit: 3, from: Some(9) }.clamped(&widths, inputs);
        assert_eq!(s, Slot { layer: 1, unit: 1, from: Some(3) });
        assert_eq!(
            Slot { layer: 0, unit: 2, from: Some(1) }.clamped(&widths, inputs),
            Slot { layer: 0, unit: 2, from: None }
        );
        assert_eq!(Slot { layer: 5, unit: 0, from: None }.clamped(&widths, inputs).layer, 1);
    }
}
