//! kubeadm configuration rendering (pure): the five documents kind writes to
//! `/kind/kubeadm.conf`, kind's patch rules, and the inputs the PKI needs from them.
