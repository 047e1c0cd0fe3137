# exploring-loss-functions, "Image Classification"
y_true = torch.IntTensor(np.array([1,2,0,1]))
y_pred = torch.FloatTensor(np.array([[0.1, 0.5,0.4,],
                                    [0.1, 0.2, 0.7],
                                    [0.3, 0.25, 0.55],
                                    [0.3, 0.4, 0.1]]))
y_pred_labels = torch.argmax(y_pred, dim=1)
