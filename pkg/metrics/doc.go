// Package metrics holds the evaluation measures of the C-MemAE thesis:
//   - [AUROC], the area under the ROC curve, computed exactly as
//     scikit-learn's roc_auc_score (tied scores count one half); the curve
//     itself is gonum's stat.ROC (gonum.org/v1/gonum/stat), whose trapezoidal
//     area the tests check equals [AUROC];
//   - [NormalConfidence], the thesis's score of being normal,
//     1 − (e − min e)/(max e − min e) for reconstruction errors e;
//   - [MeanErrors], the mean error of the normal and of the anomalous images;
//   - [MemoryChange], how much a memory moved between two checkpoints,
//     1 − mean over items of (cos(m_e, m_{e−1}) + 1)/2.
package metrics
