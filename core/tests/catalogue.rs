//! The metadata catalogue (what the page's main thread uses) is the registry's metadata, in the
//! same order, and its applicability check gives the estimators' own answers.

use stochgrad_core::estimators::{catalogue, find_meta, registry};
use stochgrad_core::model::UnitKind;
use stochgrad_core::settings::{LossKind, Settings};

#[test]
fn catalogue_is_the_registrys_metadata_in_order() {
    let reg: Vec<_> = registry().iter().map(|e| e.meta() as *const _).collect();
    let cat: Vec<_> = catalogue().iter().map(|m| *m as *const _).collect();
    assert_eq!(reg, cat);
    for e in registry() {
        assert!(std::ptr::eq(find_meta(e.meta().key).unwrap(), e.meta()));
    }
    assert!(find_meta("no-such-estimator").is_none());
}

#[test]
fn metadata_check_agrees_with_every_estimator() {
    let mut checked = 0;
    let mut refused = 0;
    for loss in LossKind::ALL {
        for widths in [vec![1], vec![3], vec![2, 2], vec![2, 1, 2]] {
            for unit in [None, Some(UnitKind::Sts)] {
                let mut m = Settings { widths: widths.clone(), loss, ..Settings::default() }.to_model();
                if let Some(u) = unit {
                    m.layers[0].unit = u;
                }
                for e in registry() {
                    let a = e.check(&m).map_err(|x| x.to_string());
                    let b = e.meta().check(&m).map_err(|x| x.to_string());
                    assert_eq!(a, b, "{} on {widths:?} {loss:?} {unit:?}", e.meta().key);
                    checked += 1;
                    refused += usize::from(a.is_err());
                }
            }
        }
    }
    // Both answers occur, so the comparison says something.
    assert!(refused > 0 && refused < checked, "{refused} of {checked}");
}
